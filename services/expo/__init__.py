"""Expo: exhibitors, booths and floor plan, launches, lead capture, B2B meetings and the job fair."""

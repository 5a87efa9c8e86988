"""accreditation."""

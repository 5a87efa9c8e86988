"""The pages, one module per audience: sign-in, the secretariat console, the public programme."""

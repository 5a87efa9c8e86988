"""`python -m services.web`."""

from services.web.main import main

main()

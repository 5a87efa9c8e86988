"""foro's web pages: a backend-for-frontend in front of the five services (docs/web.md).

Server-rendered (FastAPI, Jinja2, htmx for partial updates), bilingual from one source, owning no
domain data: every page calls the services' HTTP APIs with the signed-in person's token.
"""

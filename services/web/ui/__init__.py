"""The agents' web interface: server-rendered pages (Jinja2), a little JavaScript of our
own for live updates, and the security around them (sessions, CSRF, throttling, CSP)."""

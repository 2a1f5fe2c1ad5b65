"""Wiring of the HTTP server: gunicorn's application, its connection-parking worker, and the buffering front."""

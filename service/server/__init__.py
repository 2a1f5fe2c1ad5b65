"""Wiring of the HTTP server: gunicorn's application, its connection-parking worker, the buffering front, and
prometheus-client's multiprocess directory."""

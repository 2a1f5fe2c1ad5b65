"""Authentication and authorization, without HTTP: JWT settings, the bearer credential, token verification,
route scopes, and the `Caller` the routes and the libraries apply alike. The Flask gate is `service.api.auth`."""

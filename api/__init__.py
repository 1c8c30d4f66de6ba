"""Interfaces of NestPatrol: the ``nestpatrol`` command line and (later) the HTTP API."""

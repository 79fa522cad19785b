"""The round's JSON routes under ``/round/api`` (mounted by :func:`xl_addin.server.create_app`)."""

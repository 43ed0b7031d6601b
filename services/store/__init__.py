"""Stored responses and conversations (``PROXY_STORE_URL``): one ``Store`` per process, SQLite or PostgreSQL.

``base`` is the interface and its records, ``sql`` the schema, migrations and queries both backends share,
``sqlite`` and ``postgres`` the drivers, ``opening`` picks one from ``PROXY_STORE_URL``, ``lakebase`` the
short-lived password of a Databricks Lakebase database, ``history`` the Responses step that expands
``previous_response_id`` and ``conversation`` into a complete request body and keeps the answer (``streaming``
for a streamed one), ``items`` and ``pages`` the stored item and list shapes, ``retention`` the purge.
"""

"""Databricks Model Serving: the client, its transport, SSE reading, credentials, the model catalogue, error bodies."""

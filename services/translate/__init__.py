"""Translation between the OpenAI and the Databricks FMAPI dialects: pure functions, no I/O."""

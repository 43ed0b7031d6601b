"""The chat pivot <-> Databricks: the OpenAI chat request every door translates to, as Databricks' invocations take
it (``requests``, ``policy``), and Databricks' answers and chunks normalised back into the pivot (``answers``,
``chunks``, ``fields``, ``content``). Pure functions, no I/O. Each door's own dialect <-> the pivot lives in
``services/dialects/<door>/``."""

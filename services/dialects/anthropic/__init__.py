"""The Anthropic Messages door: pure translation to and from the chat pivot.

- ``requests``: Messages request -> chat request (``to_chat``)
- ``family``: what each Databricks model family takes for thinking and effort
- ``answers``: chat answer -> ``Message``
- ``stream``: chat chunks -> Messages stream events (``MessageStream``)
- ``errors``: the Anthropic error envelope
- ``tokens``: the ``count_tokens`` estimate
- ``model_ids``: Anthropic model ids -> endpoints, and the Anthropic model list
"""

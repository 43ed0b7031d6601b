"""Prompt caching for Claude endpoints: automatic cache breakpoints, the endpoints that refuse them, cache counts."""

"""The foundation every layer uses: one error type and formatter, safe YAML, atomic writes."""

"""The exported scorer: every customer a segment, a risk and a value, with reasons."""

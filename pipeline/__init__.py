"""Apache Beam jobs of the LLaMA-style data pipeline (entry point: `python -m pipeline.run`)."""

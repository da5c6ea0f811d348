"""Plain text filters: language id, perplexity, Wikipedia-reference classifier, C4 and code rules."""

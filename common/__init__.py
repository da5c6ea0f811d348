"""Plain building blocks shared by every layer: the document record, run events, downloads."""

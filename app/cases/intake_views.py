"""The intake form: register a complaint, keep a draft, edit a case."""

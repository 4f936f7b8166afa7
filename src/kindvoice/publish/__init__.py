"""Publishing: many sessions at once (``batch``), a graded series (``course``) and a
podcast feed for a folder of sessions (``feed``)."""

"""Comments: posting and replies, the thread readers see, the rules engine, the sanitizer,
the visitor's own comments, reports and the poster's status link."""

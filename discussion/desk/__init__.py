"""The editorial desk: editors write, schedule, correct and unpublish publications;
revisions, previews and the related list they see while editing."""

"""Personal data in chat text: detection, masking and scoring."""

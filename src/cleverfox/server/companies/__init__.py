"""Companies: a partner's customers."""

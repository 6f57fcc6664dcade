"""Company users: the people of a partner's customer companies (partner-user rules apply)."""

"""Partner users: people of the partner's organisation, and what partner and company users share.

``people`` holds the attributes and rules both kinds of user follow (a valid, case-folded
unique Email; exactly one account owner who can be neither deleted nor deactivated);
``invitations`` queues the invitation mail a new user gets.
"""

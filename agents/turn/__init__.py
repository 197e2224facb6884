"""Reading one customer message in its conversation: the requests in it (splitting, speech acts, small talk,
withdrawals) and the details each action still lacks (slots). The `slots` node is `understand.understand`."""

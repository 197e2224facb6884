"""Connectors to the company's systems (issue #26): the operations registry, the MCP and HTTP clients, and the
`Systems` door every look-up and write goes through."""

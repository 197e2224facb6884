"""LangGraph graphs: the supervisor and the four specialist sub-graphs."""

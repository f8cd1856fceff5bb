"""`python -m llm_sessions` behaves exactly like the `llm-session` command."""

from llm_sessions.entry import main

if __name__ == "__main__":
    main()

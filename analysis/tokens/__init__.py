"""Chat templates (sandboxed) and token counts: shared by the token_length check and the Prepare stage."""

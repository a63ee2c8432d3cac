"""What every free-text field of the admin API refuses: text the database cannot store."""


def unstorable_character(text: str) -> str:
    """A message naming the character in `text` that cannot be stored, or "" if there is none.

    PostgreSQL text holds no NUL, and UTF-8 holds no lone surrogate (JSON's "\\ud800" escape
    makes one); either would otherwise fail at the database as a 500.
    """
    if "\x00" in text:
        return "Remove the NUL character."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Retype this text: it holds a broken character (an unpaired surrogate)."
    return ""

"""Three clearly separated subjects (and a fourth for references) shared by the Map tests, app and e2e."""

from __future__ import annotations

COOKING = ["How long should I simmer a tomato sauce for pasta?", "What temperature do I roast a whole chicken at?",
           "How do I keep pancakes fluffy?", "Can I freeze homemade bread dough?",
           "What is the best oil for deep frying potatoes?", "How do I caramelise onions without burning them?",
           "How much salt goes into pasta water?", "Why did my cake sink in the middle of the oven?",
           "How do I make a stock from leftover chicken bones?", "What spices go into a simple curry?",
           "How do I know when a steak is medium rare?", "How do I stop rice from sticking to the pot?"]
SPACE = ["How far is the Moon from the Earth?", "Why does Mars look red in the night sky?",
         "What is a black hole made of?", "How many moons does Jupiter have?", "What causes a solar eclipse?",
         "How hot is the surface of the Sun?", "What is a light year in kilometres?",
         "Why does Saturn have rings?", "How do astronomers find planets around other stars?",
         "What is the Milky Way galaxy?", "Why is Venus the hottest planet?", "What is a comet's tail made of?"]
PYTHON = ["How do I read a CSV file with pandas?", "What is a list comprehension in Python?",
          "How do I handle a KeyError in a Python dict?", "How do I install a package with pip?",
          "What does the Python `with` statement do?", "How do I sort a list of dictionaries by a key in Python?",
          "How do I write a unit test with pytest?", "What is the difference between a tuple and a list in Python?",
          "How do I format a float to two decimals in Python?", "How do I reverse a string in Python?",
          "What is a virtual environment in Python?", "How do I parse JSON in Python?"]
GARDEN = ["How often should I water tomato plants?", "When do I prune rose bushes?", "How do I compost kitchen scraps?",
          "What vegetables grow well in shade?", "How do I get rid of aphids on my plants?",
          "When should I plant tulip bulbs?", "How deep do I plant potato seeds?", "How do I keep basil alive?"]


QUESTIONS = COOKING + SPACE + PYTHON


def chat_row(q: str) -> dict:
    """A one-turn chat whose answer repeats the question (the map then groups rows by the question's subject)."""
    return {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": f"Here is how: {q}"}]}

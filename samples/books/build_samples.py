"""Writes this folder's Books samples (run from the repo root: python samples/books/build_samples.py).

- pg90001.txt, pg90002.txt: two short stories written for this project, wrapped in the real
  Project Gutenberg plain-text layout (header, `*** START OF THIS PROJECT GUTENBERG EBOOK …`,
  production credits, body, `End of the Project Gutenberg EBook …`, `*** END OF …`, licence),
  CRLF line endings as Gutenberg ships them. The eBook numbers are made up.
- pg90003.txt: another "edition" of 90001 (other credits, a few words changed): a near-copy that
  book-level dedup must remove.
- books3-sample.jsonl: one Books3-style JSON line {"text", "meta"} (a different book).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

LAMPLIGHTER = """THE LAMPLIGHTER'S WINTER

A Story

CHAPTER I

The town of Wexcombe lay in a fold of the hills, and in winter the dark came down upon it
early, like a lid upon a box. Every evening at four o'clock old Tobias Venn took his ladder and
his little brass can of oil and went the length of the High Street, lighting the lamps one after
another, so that a traveller coming over the ridge could watch the town wake up in a string of
yellow beads.

He had done this for thirty-one years. He knew every lamp by its temper: the one by the chapel
that smoked if the wick was cut too square, the one at the corner of Tanner's Lane that the boys
liked to throw snowballs at, the tall one before the Angel Inn whose glass was cracked and mended
with a strip of tin.

CHAPTER II

That winter the council met and resolved that the town should have gas. A man came from the city
with drawings and a tape measure, and he walked up and down the High Street counting paces and
writing in a book. Tobias followed him at a little distance, saying nothing, and the children
followed Tobias.

"It will be a fine thing," said the baker's wife. "No more smoke on the windows."

"It will be a fine thing," said the schoolmaster, who liked anything that came from the city.

Tobias said only that the lamps had never yet failed anybody, and went home to his supper.

CHAPTER III

The pipes were laid in March, when the ground had softened. On the first evening of the gas the
whole town turned out to watch the man from the city turn a little key at the bottom of each
post. The flames came up white and steady and very bright, and the people clapped.

But at the corner of Tanner's Lane the new lamp would not light, for a stone had cracked the pipe,
and the street there stayed black. The man from the city swore and sent for his tools. While he
was gone, Tobias fetched his ladder and his brass can and hung his old lamp on a nail in the wall,
and lit it, and the lane had its light as it had always had.

Nobody clapped for that. But the baker's wife, going home late, stopped under it to find her key,
and she looked up and nodded to the old man as if they had agreed upon something long ago.

THE END
"""

FERRY = """THE FERRYMAN OF ASHFORD REACH

CHAPTER I

Below the mill at Ashford the river widens and slows, and there for as long as anyone remembered
a flat-bottomed ferry had carried people from the village to the water meadows and back. The
ferryman in those years was a young woman named Hester Lyle, who had taken the pole from her
father when his back gave out, and who could read the river as other people read a clock.

She charged a penny for a grown person and nothing for a child, and she would not cross at all
when the water was brown and fast after rain, whatever anybody offered her. The farmers grumbled
at this, but they came to trust it, and it was said in the village that if Hester would not go,
the river was not to be argued with.

CHAPTER II

In the autumn of the wet year a surveyor arrived to measure the reach for a bridge. He was a
pleasant, talkative man, and he crossed with Hester every morning and back every evening, and told
her about the iron bridges he had built in the north, with their great arches and their painted
rails. She listened and asked him sensible questions about the footings, which surprised him.

"When the bridge is built," he said one evening, "you will have no more wet feet."

"When the bridge is built," said Hester, "I shall have no more work." And she laughed, so that he
could not tell whether she minded.

CHAPTER III

The bridge took two summers. On the day it opened the squire made a speech and a band played on
the new stone parapet, and people walked over and back again for the pleasure of it. Hester
tied the ferry to its post and sat on the bank to watch.

In November the river rose higher than it had in twenty years. The water stood against the new
arches and the surveyor's footings held, as he had promised they would; but the road to the
bridge ran through the low meadow, and the meadow went under. For three days the only way across
was the old flat boat, and the only person who knew where the river could be trusted was Hester.

She took the farmers over, and the doctor, and a girl going to her wedding with her dress in a
bundle on her head. She charged a penny for a grown person and nothing for a child, and at the
end of the third day the surveyor, who had come to look at his bridge, paid his penny like
everybody else and did not say a word about wet feet.

THE END
"""

ALMANAC = """A GARDENER'S ALMANAC

January

The garden in January is mostly a matter of patience. The ground is hard or sodden, and the
wise gardener stays off it, since every footstep on wet clay undoes a little of the work the
frost is doing to break it down. This is the month for reading seed catalogues by the fire,
for sharpening and oiling tools, and for drawing next year's beds on the back of an envelope.

February

Towards the end of the month the days lengthen enough to notice. Broad beans can go into pots
in a cold frame, and early potatoes can be set out in egg boxes on a light windowsill to sprout.
Prune the apple trees while they are still bare, cutting out crossing branches and opening the
middle of each tree to the light and air.

March

March is the month of false starts. A warm week tempts the gardener to sow everything at once,
and a hard frost the week after kills half of it. Sow a little, wait, and sow a little more.
Onion sets and shallots go in now, with their tips just showing above the soil, and the first
rows of carrots and parsnips can follow when the soil crumbles in the hand.
"""


def gutenberg(number, title, author, body, credits):
    header = f"""The Project Gutenberg EBook of {title}, by {author}

This eBook is for the use of anyone anywhere at no cost and with
almost no restrictions whatsoever.  You may copy it, give it away or
re-use it under the terms of the Project Gutenberg License included
with this eBook or online at www.gutenberg.org


Title: {title}

Author: {author}

Release Date: January 1, 2024 [EBook #{number}]

Language: English

Character set encoding: ASCII

*** START OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***




{credits}





"""
    footer = f"""




End of the Project Gutenberg EBook of {title}, by {author}

*** END OF THIS PROJECT GUTENBERG EBOOK {title.upper()} ***

***** This file should be named {number}.txt or {number}.zip *****
This and all associated files of various formats will be found in:
        http://www.gutenberg.org/{number}/

Updated editions will replace the previous one--the old editions
will be renamed.

*** START: FULL LICENSE ***

THE FULL PROJECT GUTENBERG LICENSE
PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK

To protect the Project Gutenberg-tm mission of promoting the free
distribution of electronic works, by using or distributing this work
(or any other work associated in any way with the phrase "Project
Gutenberg"), you agree to comply with all the terms of the Full Project
Gutenberg-tm License (available with this file or online at
http://gutenberg.org/license).

*** END: FULL LICENSE ***
"""
    return (header + body + footer).replace("\n", "\r\n")


def main():
    files = {
        "pg90001.txt": gutenberg(90001, "The Lamplighter's Winter", "Edith Marlowe", LAMPLIGHTER,
                                 "Produced by the Sample Books Transcription Team"),
        "pg90002.txt": gutenberg(90002, "The Ferryman of Ashford Reach", "Edith Marlowe", FERRY,
                                 "E-text prepared by the Sample Books Transcription Team\nfrom page images"),
        "pg90003.txt": gutenberg(
            90003, "The Lamplighter's Winter", "Edith Marlowe",
            LAMPLIGHTER.replace("thirty-one years", "thirty years").replace("swore and", "muttered and"),
            "Produced by a second volunteer, from a later printing",
        ),
    }
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w", encoding="ascii", newline="") as f:
            f.write(text)
    with open(os.path.join(HERE, "books3-sample.jsonl"), "w", encoding="utf-8") as f:
        f.write(json.dumps({"text": ALMANAC, "meta": {"title": "A Gardener's Almanac"}}, sort_keys=True) + "\n")

if __name__ == "__main__":
    main()

"""Writes c4-sample-00000.json.gz (run from the repo root): C4 `en`-style JSON lines written for
this project, {"text", "url", "timestamp"} as allenai/c4 ships them. Most records look like real C4
pages (already cleaned: every line a sentence ending in punctuation); a few show what C4's rules
and language id drop: placeholder text, code, a page of menu lines, a French page, a JavaScript
notice and a citation marker cut from lines of an otherwise good page. Deterministic bytes.
"""
import gzip
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

RECORDS = [
    ("https://www.example-gardenclub.org/news/spring-plant-sale", "2019-04-21T10:12:33Z",
     "Our spring plant sale returns to the community hall on Saturday 4 May.\n"
     "Members have been growing tomatoes, peppers and herbs on their windowsills since February, and there will be plenty to choose from.\n"
     "All plants cost between one and three pounds, and the money raised pays for seeds and tools for the school garden.\n"
     "Please bring your own bags or boxes if you can, as we are trying to use less plastic this year.\n"
     "Doors open at ten o'clock and we usually sell out of the chilli plants before lunch!"),
    ("https://blog.example-cyclist.net/2019/03/fixing-a-slow-puncture", "2019-04-19T08:45:02Z",
     "A slow puncture is one of the most annoying problems a cyclist can have.\n"
     "The tyre goes soft over a day or two, so you never quite know whether the ride home will be comfortable.\n"
     "Start by pumping the tyre up hard and listening for a hiss while you turn the wheel slowly.\n"
     "If you hear nothing, take the tube out and put it in a bowl of water, where a small stream of bubbles will show the hole.\n"
     "Mark the spot with chalk, let the tube dry, and then use a patch kit or replace the tube altogether.\n"
     "Before you refit it, run your fingers carefully around the inside of the tyre to find the thorn or glass that caused the problem."),
    ("https://www.example-localnews.co.uk/news/library-extends-opening-hours-1234567", "2019-04-23T17:02:11Z",
     "The town library will open on Sunday afternoons from next month, the council has confirmed.\n"
     "The change follows a survey in which more than six hundred residents asked for weekend opening.\n"
     "Councillor Jane Morris said the library was one of the few warm, free places where families could spend time together.\n"
     "Extra staff will be funded for a trial period of twelve months.\n"
     "Please enable JavaScript to view the comments powered by our discussion partner.\n"
     "The council will review visitor numbers in the spring before deciding whether to make the hours permanent."),
    ("https://www.example-recipes.com/recipes/simple-lentil-soup", "2019-04-20T12:30:45Z",
     "This lentil soup is cheap, filling and ready in about forty minutes.\n"
     "Soften a chopped onion, two carrots and a stick of celery in a little olive oil.\n"
     "Add a teaspoon of cumin, a pinch of chilli and two cloves of garlic, and cook for another minute.\n"
     "Stir in two hundred grams of red lentils and a litre of vegetable stock, then simmer until the lentils have broken down.\n"
     "Season with salt, pepper and a squeeze of lemon juice before serving."),
    ("https://www.example-astronomy.org/articles/what-is-a-meteor-shower", "2019-04-24T04:12:26Z",
     "A meteor shower happens when the Earth passes through a stream of dust left behind by a comet.[1]\n"
     "The particles are usually no bigger than grains of sand, but they enter the atmosphere at tens of kilometres per second.\n"
     "Friction with the air heats them until they glow, and we see a short streak of light across the sky.\n"
     "Because the Earth meets the same streams every year, the showers return on roughly the same dates.\n"
     "The best views come from a dark site after midnight, when your side of the planet faces the direction of travel."),
    ("https://www.example-hikingclub.org/walks/riverside-loop", "2019-04-22T09:14:50Z",
     "The riverside loop is an easy walk of about eight kilometres on mostly flat paths.\n"
     "It starts at the old mill car park and follows the river upstream as far as the stone bridge.\n"
     "After crossing the bridge, the path returns through meadows where you may see herons and, in summer, kingfishers.\n"
     "Some sections can be muddy after rain, so sturdy boots are a good idea.\n"
     "Dogs are welcome but should be kept on a lead near the sheep fields."),
    ("https://www.example-techhelp.com/guides/back-up-your-photos", "2019-04-18T15:49:24Z",
     "Losing years of family photos to a broken hard drive is more common than most people think.\n"
     "The simplest protection is to keep at least two copies of every picture in two different places.\n"
     "An external drive at home and an online storage service together cover most accidents, from spilled coffee to burglary.\n"
     "Whatever you choose, check once in a while that the backups can actually be opened.\n"
     "A backup that has quietly stopped working is no better than no backup at all."),
    ("https://www.example-historysociety.org.uk/talks/the-canal-age", "2019-04-25T10:18:53Z",
     "Our April talk looks at how the canal changed the town in the early nineteenth century.\n"
     "Before the canal opened, coal arrived by cart and cost almost twice as much as in neighbouring towns.\n"
     "Within ten years of the first boats, three new mills had been built along the towpath.\n"
     "The speaker, a retired lock keeper, will bring photographs and maps from his own collection.\n"
     "Visitors are welcome, and tea and biscuits will be served afterwards."),
    ("https://www.example-petcare.com/advice/keeping-rabbits-cool", "2019-04-21T16:49:54Z",
     "Rabbits cope well with cold weather but can suffer badly in the heat.\n"
     "Make sure their hutch is in the shade for the whole day, not just in the morning.\n"
     "A frozen bottle of water wrapped in a towel gives them something cool to lie against.\n"
     "Fresh water should always be available, and it is worth checking the bottle twice a day in summer.\n"
     "If your rabbit becomes floppy or breathes very fast, contact a vet straight away."),
    # C4's rules drop these:
    ("https://www.example-webdesign.biz/templates/business-theme-demo", "2019-04-20T02:57:13Z",
     "Welcome to our new business theme, built for small companies that want a clean website.\n"
     "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\n"
     "Replace this text with a description of your services and your team.\n"
     "Every page of the theme can be edited without writing a single line of code."),
    ("https://www.example-devnotes.io/posts/reading-json-in-python", "2019-04-23T06:13:16Z",
     "Reading a configuration file in Python takes only a few lines.\n"
     "The standard library already includes everything you need for simple cases.\n"
     "A typical file looks like {\"name\": \"demo\", \"debug\": true} and is loaded with json.load.\n"
     "Remember to open the file with an explicit encoding so that it works the same on every system."),
    ("https://www.example-shop.com/category/garden-tools", "2019-04-22T17:00:02Z",
     "Home\nGarden Tools\nSpades and Forks\nSecateurs\nWatering Cans\nSale\nMy Account\nBasket\n"
     "Sort by price\nShowing 1 to 24 of 96 results"),
    # ... and language id drops this one (French).
    ("https://www.example-jardinage.fr/conseils/semer-des-tomates", "2019-04-19T11:07:52Z",
     "Les tomates se sement en interieur a la fin du mois de mars.\n"
     "Remplissez de petits pots avec un terreau leger et gardez-les au chaud pres d'une fenetre.\n"
     "Les premieres pousses apparaissent en general au bout d'une semaine.\n"
     "Repiquez les jeunes plants lorsqu'ils ont deux vraies feuilles, puis installez-les au jardin apres les gelees."),
]


def main() -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        for url, timestamp, text in RECORDS:
            gz.write((json.dumps({"text": text, "timestamp": timestamp, "url": url}) + "\n").encode("utf-8"))
    with open(os.path.join(HERE, "c4-sample-00000.json.gz"), "wb") as f:
        f.write(buffer.getvalue())


if __name__ == "__main__":
    main()

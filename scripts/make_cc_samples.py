#!/usr/bin/env python3
"""Write the bundled CommonCrawl sample: two WET files of web pages authored for this project.

    python scripts/make_cc_samples.py [--out-dir samples/commoncrawl]

The files follow the Common Crawl WET layout (see ../shared/data/commoncrawl/whirlwind.warc.wet.gz):
one gzip member per record, a `warcinfo` record first, then one `conversion` record per page with
WARC-Target-URI, WARC-Date, WARC-Record-ID, WARC-Refers-To, WARC-Block-Digest,
WARC-Identified-Content-Language, Content-Type: text/plain, Content-Length (and, as in the real
file, WARC-Payload-Digest after Content-Length). Every page text below was written for this
project; none is crawled. The pages are built to exercise the CCNet path: sites whose pages share
navigation and footer lines (line dedup), other languages (language id), pages under `min_chars`,
a byte-identical pair on two URLs, boilerplate-only pages and a keyword-spam page.

Output is byte-identical on every run: fixed dates, record ids derived from a counter, and zlib's
gzip header (mtime 0, no file name).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Sequence, Tuple

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# English pages a Wikipedia article could plausibly cite (the Wikipedia sample may cite these).
CITABLE_URLS = (
    "https://www.example-observatory.org/reports/tides-2022",
    "https://www.example-observatory.org/news/2022/geminids-observing-report",
    "https://www.example-observatory.org/reports/dark-skies-survey-2022",
    "https://www.example-city.gov/news/bridge-road-closure-2023",
    "https://www.example-city.gov/news/budget-2023-24-agreed",
    "https://www.example-city.gov/news/central-library-reopens",
    "https://news.example-university.edu/2023/01/soil-fungi-drought",
    "https://www.example-historysociety.org/articles/the-ropewalk",
    "https://www.example-gazette.co.uk/news/2023/01/20/island-ferry-timetable-changes",
    "https://www.example-project.dev/blog/quillstone-3-2-released",
)

CRAWL = "CC-MAIN-2023-06"
FILE_NAMES = (f"{CRAWL}-sample-00000.warc.wet.gz", f"{CRAWL}-sample-00001.warc.wet.gz")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "samples" / "commoncrawl"

# Page kinds (the test checks each against the pipeline's view of it).
PROSE, FOREIGN, SHORT, DUPLICATE, BOILERPLATE, SPAM = "prose", "foreign", "short", "duplicate", "boilerplate", "spam"

# Record ids are UUIDs derived from a counter in this namespace, so they are fixed but look real.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/llama-data/samples/commoncrawl")
_CAPTURE_START = datetime(2023, 1, 26, 17, 4, 11, tzinfo=timezone.utc)
_CAPTURE_STEP = timedelta(hours=7, minutes=53, seconds=29)
_EXTRACTED = datetime(2023, 2, 9, 21, 37, 52, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Site:
    header: Tuple[str, ...]  # lines after the title: navigation, cookie banner
    footer: Tuple[str, ...]


@dataclass(frozen=True)
class Page:
    url: str
    language: str  # WARC-Identified-Content-Language (ISO 639-3, as CLD2 reports it in WET)
    kind: str
    text: str  # the WET payload text: title line, navigation, body paragraphs, footer


def lines(block: str) -> Tuple[str, ...]:
    """Non-empty lines of a triple-quoted block (one paragraph or menu entry per line, as in WET)."""
    return tuple(line.strip() for line in block.strip().split("\n") if line.strip())


def page(url: str, title: str, site: Site, meta: str, body: str, kind: str = PROSE, language: str = "eng") -> Page:
    text = "\n".join((title,) + site.header + lines(meta) + lines(body) + site.footer) + "\n"
    return Page(url, language, kind, text)


def bare(url: str, block: str, kind: str, language: str = "eng") -> Page:
    """A page whose whole text is `block` (no shared site furniture)."""
    return Page(url, language, kind, "\n".join(lines(block)) + "\n")


NO_SITE = Site((), ())

# --------------------------------------------------------------------------------------------
# Sites whose pages share header and footer lines.

BAKERY = Site(
    lines("""
        Skip to content
        Example Bakery
        Home
        Our Breads
        Blog
        About us
        Visit & Contact
        Order online
        This website uses cookies to improve your experience. By continuing to browse you agree to our use of cookies.
        Accept
        Read more
    """),
    lines("""
        Share this:
        Facebook
        Twitter
        Email
        Leave a Reply
        Your email address will not be published. Required fields are marked *
        Example Bakery
        12 Harbour Street, Portsmouth PO1 2AB
        Open Tuesday to Saturday, 7am to 3pm
        Privacy Policy
        Terms of Sale
        © 2023 Example Bakery. All rights reserved.
    """),
)

COUNCIL = Site(
    lines("""
        Skip to main content
        Example City Council
        Residents
        Business
        Council and democracy
        Bins and recycling
        Roads and transport
        Search this site
        Search
        We use some essential cookies to make this website work. We would also like to set analytics cookies to understand how you use the site.
        Accept analytics cookies
        Reject analytics cookies
    """),
    lines("""
        Was this page helpful?
        Yes
        No
        Contact the council
        Accessibility statement
        Cookies
        Privacy notice
        Example City Council, Civic Centre, Market Square
        © Example City Council 2023
    """),
)

TRAILS = Site(
    lines("""
        Example Trails
        Trails
        Maps
        Safety
        Gear
        Community
        Donate
        Sign in
    """),
    lines("""
        Download GPX
        Print this route
        Report a problem on this route
        Leave no trace. Stay on marked paths and take your litter home.
        Example Trails is a volunteer-run charity registered in England and Wales.
        About
        Volunteer
        Contact
        Privacy
        © 2023 Example Trails
    """),
)

OBSERVATORY = Site(
    lines("""
        Example Observatory
        Visit
        Events
        Research
        Education
        News
        Support us
        Book a planetarium show
    """),
    lines("""
        Sign up to our monthly sky guide
        Example Observatory is an independent research and education trust.
        Opening hours
        Getting here
        Contact us
        Privacy
        © 2023 Example Observatory
    """),
)

UNIVERSITY = Site(
    lines("""
        Example University
        News
        Study
        Research
        Campus life
        Alumni
        Search
        Media contacts
        Home > News
    """),
    lines("""
        Share this story
        Related news
        Example University
        Press office: press@example-university.edu
        Follow us
        Accessibility
        Privacy and cookies
        © 2023 Example University
    """),
)


def standalone(header: str, footer: str) -> Site:
    return Site(lines(header), lines(footer))


# --------------------------------------------------------------------------------------------
# The pages. Dates in the pages precede the CC-MAIN-2023-06 capture dates (late January 2023).

BAKERY_PAGES = [
    page(
        "https://www.example-bakery.co.uk/blog/why-our-sourdough-takes-two-days",
        "Why our sourdough takes two days | Example Bakery",
        BAKERY,
        """
        Why our sourdough takes two days
        Posted on 14/01/2023 by Marta Lindqvist
        """,
        """
        People often ask why a loaf of our country sourdough costs more than the sliced bread at the supermarket. The honest answer is time. From the moment we feed the starter to the moment the loaf comes out of the oven, about forty hours pass, and for most of that time the dough is simply sitting in a cool room doing work that no machine can hurry.
        Our starter is eleven years old. It began as a jar of flour and water on the windowsill of my first flat, and it has moved house with me three times. Every evening at six one of us discards most of it and feeds the rest with equal weights of wholemeal flour and lukewarm water. By the next morning it has doubled, smells faintly of yoghurt and green apples, and is ready to leaven the day's dough.
        The mixing itself takes only a few minutes. We combine flour, water and starter, leave the mixture to rest for an hour so the flour can absorb the water, and only then add the salt. During the next four hours the dough gets a series of gentle folds rather than vigorous kneading. Each fold stretches the gluten a little and traps a little more gas, and you can feel the dough change from a shaggy mass into something smooth and elastic.
        After shaping, the loaves go into cane baskets and spend the night in the retarder, a large fridge held at four degrees. The cold slows the yeast far more than it slows the bacteria, so the loaf develops the gentle sourness and the blistered crust that our customers ask for. It also means we can bake first thing in the morning without anyone starting work at two o'clock at night.
        We bake at a high temperature with plenty of steam for the first twenty minutes, then vent the oven so the crust can dry and darken. A properly baked loaf sounds hollow when tapped underneath and crackles audibly as it cools on the rack. If you buy one warm, resist cutting it for at least an hour: the crumb is still setting, and slicing too early makes it gummy.
        So when you pick up a loaf on Saturday morning, you are holding something that was started on Thursday evening. We think it is worth the wait, and judging by the queue outside the door, so do you.
        """,
    ),
    page(
        "https://www.example-bakery.co.uk/blog/baking-with-rye",
        "Baking with rye: what changes when the wheat goes | Example Bakery",
        BAKERY,
        """
        Baking with rye: what changes when the wheat goes
        Posted on 21/12/2022 by Tomasz Nowak
        """,
        """
        Rye behaves so differently from wheat that it is almost a separate craft. When we added a dark rye loaf to the Saturday menu last autumn, we spent six weeks producing bricks before we found a method we were happy with, and this post collects what we learned along the way.
        The first surprise is that rye barely forms gluten. Wheat dough is held together by a stretchy protein network; rye dough is held together mostly by pentosans, sticky carbohydrates that soak up huge amounts of water. Instead of kneading, you stir. Instead of shaping a smooth ball, you wet your hands and pat the paste into a tin. If you try to treat it like wheat, you will end up with dough glued to every surface of the kitchen.
        The second surprise is acidity. Rye flour contains active enzymes that break down starch, and if nothing stops them, the crumb turns wet and collapses. A sour starter keeps those enzymes in check, which is why nearly every traditional rye bread in northern and eastern Europe is leavened with sourdough. Our rye starter is kept stiffer and sourer than the wheat one, and it lives in its own tub on a different shelf.
        Third, rye bread needs patience after baking as well as before. A dense rye loaf should rest, wrapped in linen, for a full day before it is sliced. Cut it on the day it is baked and the knife comes away sticky; wait until the next morning and you get clean, thin slices that keep for more than a week.
        Our current recipe uses seventy per cent wholegrain rye, cracked rye grains soaked overnight, a spoonful of dark malt and a handful of sunflower seeds. It is baked in lidded tins for nearly two hours at a falling temperature. It is not a sandwich loaf for everyone, but with butter and a slice of sharp cheese it is, in our opinion, one of the best things we make.
        """,
    ),
    page(
        "https://www.example-bakery.co.uk/blog/recipe-cardamom-buns",
        "Recipe: cardamom buns to make at home | Example Bakery",
        BAKERY,
        """
        Recipe: cardamom buns to make at home
        Posted on 07/01/2023 by Marta Lindqvist
        """,
        """
        Cardamom buns are the thing we sell out of first on a Saturday, and we are regularly asked for the recipe. Here is a version scaled down for a home kitchen. It makes twelve buns and takes about four hours from start to finish, most of which is waiting.
        For the dough: 500 g strong white flour, 75 g caster sugar, 7 g dried yeast, 1 teaspoon of salt, 2 teaspoons of freshly ground cardamom, 250 ml whole milk, 1 egg and 75 g soft unsalted butter. For the filling: 100 g soft butter, 80 g light brown sugar and another 2 teaspoons of cardamom. To finish: 1 beaten egg and a handful of pearl sugar.
        Warm the milk until it feels just warm on your wrist, then whisk in the yeast. Put the flour, sugar, salt and cardamom in a large bowl, add the milk and the egg, and bring everything together. Knead for about ten minutes, then work in the butter a little at a time until the dough is glossy and no longer sticks to your hands. Cover it and leave it somewhere warm for an hour and a half, until doubled.
        Beat the filling ingredients into a smooth paste. Roll the dough into a rectangle roughly 30 by 40 centimetres, spread the filling over it and fold it in three like a letter. Cut the folded dough into twelve strips. Twist each strip a few times, wind it around two fingers and tuck the end underneath to form a knot. This is easier than it sounds, and a lopsided knot tastes just as good.
        Leave the buns on lined trays to rise for another forty minutes, brush them with egg and scatter pearl sugar over the top. Bake at 200 degrees for twelve to fifteen minutes, until deep golden. They are best eaten the same day, still slightly warm, but they also freeze well: reheat them for five minutes in a hot oven.
        A note on cardamom: buy the green pods and grind the seeds yourself. Ready-ground cardamom loses its perfume within weeks, and the difference in the finished bun is enormous.
        """,
    ),
    page(
        "https://www.example-bakery.co.uk/blog/meet-the-new-oven",
        "Meet the new oven | Example Bakery",
        BAKERY,
        """
        Meet the new oven
        Posted on 29/11/2022 by Marta Lindqvist
        """,
        """
        After nine years and one memorable visit from the fire brigade, our old electric deck oven has retired. In its place stands a wood-fired masonry oven, built over six weeks by a small firm of oven builders from the Welsh borders. We closed for a fortnight in October to finish the job, and we thank everyone who put up with the dust and the scaffolding.
        A masonry oven works on a different principle from the ovens most people know. Instead of heating air with an element, we burn a fire directly on the oven floor for about three hours the evening before a bake. The thick brick dome and the hearth soak up that heat. In the morning we rake out the embers, mop the floor with a damp cloth on a pole, and bake in the stored heat, which slowly falls over the course of the day.
        That falling temperature shapes the whole baking schedule. The first loads, when the oven is fiercest, are the big sourdough loaves that need a hard initial blast. Then come the baguettes and rolls, then the enriched doughs such as brioche and cardamom buns, which would scorch any earlier. Late in the afternoon we slide in trays of granola and, on Fridays, a pot of beans that cooks overnight in the last of the warmth.
        We burn only offcuts of kiln-dried ash and beech from a joinery workshop two miles away, wood that would otherwise be sent to landfill. The oven uses far less electricity than the old one did, though it asks for more labour: someone has to light it, tend it and clean it, and everyone on the team has learned to judge the heat from the colour of the bricks.
        Most importantly, the bread is better. The crusts are thicker and more deeply coloured, and the loaves spring higher in the first minutes of the bake. Come and see the oven for yourself on one of our open mornings; we are happy to show anyone around.
        """,
    ),
    page(
        "https://www.example-bakery.co.uk/blog/a-visit-to-the-mill",
        "A visit to the mill that grinds our flour | Example Bakery",
        BAKERY,
        """
        A visit to the mill that grinds our flour
        Posted on 03/12/2022 by Tomasz Nowak
        """,
        """
        Every few months we drive inland to the watermill that supplies most of our flour, and last week the whole team went along. The mill sits on a small river at the bottom of a steep lane, and grain has been ground on the same site for more than two centuries, although the present wheel dates from a restoration in the 1980s.
        The miller, Joan, buys wheat and rye from four farms within twenty miles. She tests each delivery for moisture and protein before accepting it, and she keeps the harvests separate so that we know exactly which field our flour came from. That matters to us because flour from different years and different farms behaves differently in the dough. A wet summer gives softer grain that absorbs less water; a dry one gives flour that is thirsty and strong.
        Stone milling is slower than roller milling, and it produces a flour that keeps the germ and more of the bran. Those parts carry most of the flavour and the nutrients, but they also contain oils that can turn rancid, so stoneground flour should be used within a few months. We take deliveries every fortnight rather than stockpiling, and we store the sacks in a cool room well away from the ovens.
        Watching the stones turn is oddly hypnotic. Grain trickles from the hopper into the eye of the upper stone, and a fine, warm flour emerges from the edge. Joan adjusts the gap between the stones by hand, listening to the sound of the mill as much as looking at the product. She told us that a well-set pair of stones should hum, not rattle.
        We came home with a car full of sacks and a renewed respect for the people who grow and grind our raw material. If you buy a bag of flour from our shop, it is the same flour we bake with, and you can ask us which farm it came from.
        """,
    ),
]

COUNCIL_PAGES = [
    page(
        "https://www.example-city.gov/news/bridge-road-closure-2023",
        "Bridge Road to close for structural repairs | Example City Council",
        COUNCIL,
        """
        Home > News > Roads and transport
        Bridge Road to close for structural repairs
        Published: 16 January 2023
        """,
        """
        Bridge Road will be closed to all vehicles between its junctions with Mill Lane and Quay Street from Monday 6 February 2023 for approximately ten weeks while essential repairs are carried out to the river bridge. Pedestrians will still be able to cross the bridge on the eastern footway throughout the works, except on two weekends in March when the footway itself is resurfaced.
        The repairs follow a routine inspection last autumn which found that water had been getting through the road surface and into the structure for some years. Several of the bearings that allow the deck to expand and contract have seized, and some of the concrete at the base of the parapets has cracked. The bridge is not in danger of collapse, but engineers have advised that the work should not be delayed beyond this year.
        During the closure, a signed diversion will direct traffic along Station Avenue and the Northern Relief Road. Drivers should allow an extra ten to fifteen minutes for journeys across the river at peak times. Bus routes 4 and 12 will follow the diversion and will not serve the stops on Bridge Road; temporary stops will be provided on Station Avenue. Cyclists are asked to dismount when crossing the bridge on the footway.
        Access will be maintained for residents and businesses on the closed section, and the emergency services have been consulted on the arrangements. Deliveries to properties within the closure can be arranged by contacting the site team on the number shown on the information boards at each end of the works.
        The work is funded from the council's highways maintenance budget and a grant from the regional transport fund, at a total cost of around £1.4 million. The council apologises for the disruption and thanks residents for their patience. Updates will be published on this page and on the council's social media channels as the work progresses.
        """,
    ),
    page(
        "https://www.example-city.gov/news/budget-2023-24-agreed",
        "Council agrees budget for 2023/24 | Example City Council",
        COUNCIL,
        """
        Home > News > Council and democracy
        Council agrees budget for 2023/24
        Published: 27 January 2023
        """,
        """
        Councillors have approved the council's budget for the financial year beginning in April 2023 at a full council meeting held on Thursday evening. The budget sets out how the council will spend around £212 million on day-to-day services, together with a separate capital programme for buildings, roads and equipment.
        The share of council tax collected by the city council will rise by 2.99 per cent, which for a typical Band D property is an increase of about 52 pence a week. In addition, the council will apply the adult social care precept, which is ring-fenced for care services for older and disabled residents. The overall bill paid by households also includes amounts set by the police and fire authorities, which are decided separately.
        Rising energy prices and inflation have added an estimated £14 million to the cost of running services compared with last year. To close the gap, the council plans to make savings through renegotiated contracts, the sale of two office buildings that are no longer needed, and greater use of online services for routine transactions such as parking permits. No libraries or children's centres will close as a result of this budget.
        The capital programme includes the refurbishment of the Central Library, a new changing places toilet at Riverside Park, improvements to three primary school buildings, and the replacement of older street lights with low-energy lamps. It also sets aside money for flood defence work along the lower river, in partnership with the national environment agency.
        Residents were able to comment on the draft proposals during a six-week consultation last autumn, which received more than 1,800 responses. A summary of the feedback and of the council's response is included in the budget papers, which can be read in full on the council's meetings website.
        """,
    ),
    page(
        "https://www.example-city.gov/bins/garden-waste-changes-2023",
        "Changes to garden waste collections from March | Example City Council",
        COUNCIL,
        """
        Home > Bins and recycling > Garden waste
        Changes to garden waste collections from March
        Published: 12 January 2023
        """,
        """
        From 1 March 2023, garden waste will be collected fortnightly instead of weekly throughout the year, and the service will pause for six weeks over the winter from mid-December. The change brings the city into line with neighbouring councils and reflects the fact that many brown bins are put out only half full for much of the year.
        Subscriptions for the 2023 season open on 1 February. The annual charge remains £45 for the first bin, with a discount for residents who receive council tax support. If you already subscribe and pay by direct debit, your subscription will renew automatically and you do not need to do anything. New stickers will be posted to subscribers during February and should be attached to the lid of the bin.
        Your collection day for garden waste may change. A new calendar will be delivered with your sticker and is also available through the online collection day checker. Please put your bin out by 7am on the collection day with the lid closed, and keep it free of plastic bags, soil, stones and food waste, which cannot be composted at the site we use.
        All garden waste collected by the council is taken to an open-air composting site on the edge of the city. The material is shredded, turned regularly and screened to produce a peat-free soil improver, which is sold in bulk to local farms and landscapers. Residents can collect up to two bags free of charge at the household recycling centre during the spring giveaway weekend.
        If you do not want to pay for collections, you can take garden waste to the household recycling centre free of charge, or compost it at home. The council offers discounted compost bins to residents, and a short guide to home composting is available in the recycling section of this website.
        """,
    ),
    page(
        "https://www.example-city.gov/news/central-library-reopens",
        "Central Library reopens after renovation | Example City Council",
        COUNCIL,
        """
        Home > News > Libraries
        Central Library reopens after renovation
        Published: 09 January 2023
        """,
        """
        Central Library reopened to the public on Saturday 7 January after a renovation lasting fourteen months. The Victorian building has been repaired from the roof down, and the interior has been reorganised to make more room for study, children's activities and community events.
        The most visible change is the restored reading room on the first floor. A suspended ceiling installed in the 1960s has been removed, revealing the original glazed lantern, which now lights the room during the day. The room has 80 study desks, each with power sockets, and it will be kept as a quiet space. The ground floor has been opened up to create a children's library with a storytelling corner and a small garden at the rear.
        The building is now fully accessible. A new lift serves all three floors, the main entrance has been regraded so that a ramp is no longer needed, and there are accessible toilets on every level. Hearing loops have been fitted at the enquiry desk and in the two meeting rooms, which community groups can book at a reduced rate.
        During the works the library's local studies collection, which includes maps, parish records and photographs dating back to the 1850s, was moved to temporary storage and catalogued. The collection now has a climate-controlled store in the basement and a dedicated search room, open four days a week. Family historians are advised to book a seat in advance.
        The renovation cost £6.2 million, of which £2.5 million came from a national heritage grant. Opening hours are 9am to 7pm from Monday to Friday and 9am to 5pm on Saturday. Membership is free for everyone who lives, works or studies in the city, and you can join at the enquiry desk with proof of address.
        """,
    ),
]

TRAIL_PAGES = [
    page(
        "https://www.example-trails.org/trails/greyfell-ridge",
        "Greyfell Ridge circuit | Example Trails",
        TRAILS,
        """
        Greyfell Ridge circuit
        Difficulty: Hard
        Distance: 14.5 km
        Ascent: 820 m
        Dogs: on leads near livestock
        """,
        """
        The Greyfell Ridge circuit is one of the finest high-level walks in the district, and on a clear day the views stretch from the estuary in the south to the long line of northern hills. It is also a serious mountain walk. The ridge is exposed, there is no shelter once you leave the valley, and the weather on the tops can be very different from the weather in the car park.
        Start from the village hall car park and follow the lane past the chapel to a gate marked with a yellow arrow. The path climbs steadily through sheep pasture and then through an old oak wood beside a beck. Where the wood ends, cross the footbridge and take the right-hand path up the spur. This is the steepest part of the day: about 400 metres of ascent in under two kilometres, on a rough path that is loose in places.
        Once on the ridge, the walking becomes easier. Follow the line of the old boundary wall north-east over three rounded summits. The highest point, Greyfell Pike, is marked by a trig pillar and a large cairn. In mist, keep the wall on your right: it is the most reliable guide on the ridge, and several walkers have come to grief by following sheep tracks down the steep western side.
        The descent leaves the ridge at a broad saddle beyond the third summit, where a grassy path drops east towards the reservoir. Cross the dam wall and follow the tarmac access road back down the valley to the village. The café by the bridge is usually open until five in summer.
        Carry a map and compass and know how to use them; mobile signal is unreliable above the tree line. In winter the ridge often holds snow and ice well into March, and it should only be attempted by walkers with crampons, an ice axe and the experience to use them.
        """,
    ),
    page(
        "https://www.example-trails.org/trails/lowwood-falls",
        "Lowwood Falls loop | Example Trails",
        TRAILS,
        """
        Lowwood Falls loop
        Difficulty: Easy
        Distance: 16.2 km
        Ascent: 140 m
        Dogs: on leads near livestock
        """,
        """
        This gentle loop follows the river upstream through ancient woodland to a series of waterfalls, and returns along an old cart track with wide views over the valley. It is a good choice for families, for a short winter day, or for the morning after heavy rain, when the falls are at their most impressive. The full loop is long but almost level, and it can be shortened at the halfway footbridge.
        From the car park at Lowwood Bridge, take the riverside path signed to the falls. The first kilometre is level and well surfaced, and suitable for robust pushchairs. After the second footbridge the path narrows and climbs in a series of stone steps beside the gorge. Take care here: the rock is polished by thousands of boots and is slippery when wet, and children should be kept close.
        The lower fall drops about eight metres into a deep, dark pool. A viewing platform built by our volunteers in 2019 gives a safe view without any need to scramble down to the water. Above it, the path continues past two smaller cascades to the upper fall, where the whole river squeezes through a narrow cleft in the rock. In autumn the spray keeps the mosses and ferns on the gorge walls a vivid green.
        Beyond the upper fall, leave the river at a kissing gate and follow the broad track that contours back along the hillside. This was once the route by which carts carried charcoal and bark from the woods to the tannery in the village, and you can still see the flat platforms where the charcoal burners worked. Benches along the track make good picnic spots.
        The track descends gently to a lane, which leads back to the car park in ten minutes. There are toilets at the car park from Easter to October. Please keep dogs on leads near the gorge and through the fields at the end of the walk, where sheep graze all year.
        """,
    ),
    page(
        "https://www.example-trails.org/gear/layering-for-winter",
        "How to layer for winter walking | Example Trails",
        TRAILS,
        """
        How to layer for winter walking
        Gear guides
        """,
        """
        The secret to staying comfortable on a winter walk is not one enormous coat but several thinner layers that you can add and remove as conditions change. When you climb a hill you produce a great deal of heat, and if you are wearing too much you will sweat. When you stop on an exposed summit, that damp clothing cools rapidly and you can become cold surprisingly quickly. Layering lets you manage both situations.
        The base layer sits against the skin, and its job is to move moisture away from your body. Merino wool and synthetic fabrics both do this well; cotton does not, because it holds water and loses its insulating value when wet. A long-sleeved base layer with a zip at the neck is the most versatile, because you can open the zip to let out heat without taking anything off.
        The mid layer provides warmth. A fleece is the traditional choice, and it remains a good one because it stays warm when damp and dries quickly. Lightweight jackets filled with synthetic insulation are increasingly popular too. Down is the warmest for its weight but performs poorly when wet, so it is best kept in the rucksack for stops rather than worn while moving in wet weather.
        The outer layer protects you from wind and rain. A waterproof jacket with a hood that fits over a hat, and which you can adjust so that it turns with your head, is essential in the hills. Look for a jacket with underarm zips or a long front zip for ventilation. Waterproof trousers are worth carrying too, even if you rarely put them on.
        Do not forget your extremities. A warm hat, a neck gaiter and two pairs of gloves, one thin and one thick, weigh very little and make an enormous difference. Finally, pack one more warm layer than you think you will need. If someone in your group is injured and you have to wait for help, that spare layer could be the most important thing you carry.
        """,
    ),
]

OBSERVATORY_PAGES = [
    page(
        "https://www.example-observatory.org/reports/tides-2022",
        "Why are there two tides a day? | Example Observatory",
        OBSERVATORY,
        """
        Why are there two tides a day?
        Education notes, 2022
        """,
        """
        Anyone who lives by the sea knows that the water rises and falls twice a day, with roughly twelve hours and twenty-five minutes between one high tide and the next. The cause is the gravitational pull of the Moon, helped by the Sun, but the fact that there are two bulges of water rather than one puzzles many people. This short explainer sets out why.
        Gravity weakens with distance. The side of the Earth facing the Moon is about 12,700 kilometres closer to it than the far side, so the Moon pulls on the near side slightly more strongly than it pulls on the centre of the Earth, and on the centre slightly more strongly than on the far side. What matters for the tides is not the total pull but these differences. Relative to the centre of the Earth, the water on the near side is pulled towards the Moon, and the water on the far side is, in effect, left behind. The result is two bulges on opposite sides of the planet.
        As the Earth turns on its axis, any given coastline passes through both bulges, giving two high tides and two low tides a day. Because the Moon moves along its orbit in the same direction as the Earth spins, the Earth has to turn a little further each day to catch up with it, which is why high tide arrives about fifty minutes later each day.
        The Sun raises tides too, a little under half as strong as the Moon's. When the Sun and Moon line up, at new moon and full moon, their effects add together and we get spring tides, with an unusually large range. When they pull at right angles, at the quarter moons, we get neap tides, with a smaller range. Spring tides have nothing to do with the season; the name comes from the idea of the water springing up.
        Real tides are far more complicated than this simple picture suggests. Continents block the movement of the bulges, ocean basins slosh with their own natural periods, and the shape of a coastline can amplify the range enormously. Some places see only one tide a day, and in a few narrow bays the difference between high and low water exceeds fifteen metres. Predicting the tide at a particular harbour therefore relies on long records of measurements as well as on astronomy.
        """,
    ),
    page(
        "https://www.example-observatory.org/news/2022/geminids-observing-report",
        "Geminid meteor shower 2022: observing report | Example Observatory",
        OBSERVATORY,
        """
        Geminid meteor shower 2022: observing report
        News, 16 December 2022
        """,
        """
        Despite a bright waning Moon and some patchy cloud, volunteers at the observatory recorded 412 meteors during the peak of the Geminid meteor shower on the night of 13 to 14 December 2022. Observers worked in pairs on the roof terrace from 7pm until shortly before dawn, with one person watching the sky and calling out meteors while the other recorded the time, brightness and direction of each one.
        The Geminids are one of the most reliable meteor showers of the year. Unlike most showers, which are produced by dust shed from comets, the Geminids come from debris associated with an asteroid, 3200 Phaethon. The particles are denser than typical comet dust, and they enter the atmosphere at a relatively modest speed, producing meteors that are often bright, slow and long-lasting.
        Our highest hourly count, 63 meteors, came between 1am and 2am, when the radiant in the constellation of Gemini was high in the south. The brightest meteor of the night, shortly after midnight, was estimated at magnitude minus five, brighter than the planet Venus, and left a glowing train visible for several seconds. Two of our cameras captured it, and we hope to combine the images with those from other stations to calculate its path through the atmosphere.
        The counts were lower than in some recent years, largely because moonlight drowned out the fainter meteors. Observers estimated that the limiting magnitude, the faintest star visible to the naked eye, was only around 5.0 for most of the night. Once corrected for these conditions, the numbers are in line with a typical Geminid maximum.
        Thank you to the thirty-one members and students who took part, and to the café team who kept everyone supplied with hot drinks. The full dataset has been submitted to the international meteor observation database. Our next public observing night will be for the Quadrantids in early January, weather permitting.
        """,
    ),
    page(
        "https://www.example-observatory.org/reports/dark-skies-survey-2022",
        "Dark skies survey 2022: results | Example Observatory",
        OBSERVATORY,
        """
        Dark skies survey 2022: results
        Research report, 30 November 2022
        """,
        """
        Between January and March 2022, 540 volunteers across the county measured the darkness of their night sky by counting the stars they could see within the constellation of Orion. The results of this citizen science survey show that truly dark skies are now rare in the region, and that about three quarters of the people who took part could see fewer than ten stars in the chosen area.
        The method is deliberately simple. Orion is easy to recognise in winter, and the four bright stars at its corners frame a patch of sky in which the number of visible stars depends strongly on the brightness of the background. Observers were asked to wait at least twenty minutes for their eyes to adapt to the dark, to avoid nights with moonlight, and to count only the stars inside the rectangle, leaving out the four corner stars themselves.
        As expected, the lowest counts came from the city centre and the retail parks along the ring road, where most observers saw four stars or fewer. Counts rose steadily with distance from the urban area, and the highest, over thirty stars, were reported from the moorland in the north-west, which lies more than twenty kilometres from any large town.
        The survey also asked volunteers to describe nearby lighting. Unshielded security lights and illuminated advertising signs were mentioned most often as the sources that spoiled their view. Several observers noted that the street lights in their area had recently been replaced with bright white LED lamps, and the counts from those streets were noticeably lower than those from streets with older, warmer lighting or with lamps that are dimmed after midnight.
        Light pollution wastes energy, disturbs wildlife and hides the night sky from most people. Simple measures, such as pointing lights downwards, choosing warmer colours and switching off lighting that nobody needs, can make a large difference. The observatory will repeat the survey in 2023 and would welcome new volunteers.
        """,
    ),
]

UNIVERSITY_PAGES = [
    page(
        "https://news.example-university.edu/2023/01/soil-fungi-drought",
        "Soil fungi help wheat survive drought, field trials show | Example University",
        UNIVERSITY,
        """
        Soil fungi help wheat survive drought, field trials show
        18 January 2023
        """,
        """
        Wheat plants grown in partnership with certain soil fungi produced up to a fifth more grain during a drought than plants grown without them, according to a three-year field study led by researchers at Example University. The findings, published this month, suggest that managing soil life could help farmers protect yields as dry summers become more frequent.
        The fungi in question form a close association with plant roots. Their fine threads extend far beyond the reach of the roots themselves, gathering water and nutrients such as phosphorus from the surrounding soil and passing them to the plant. In return, the plant supplies the fungi with sugars made by photosynthesis. The relationship is ancient and widespread, but it is weakened by intensive ploughing and by heavy use of some fertilisers.
        The team compared plots on the university farm that had been managed with reduced tillage and cover crops for eight years with neighbouring plots that had been ploughed conventionally. Both sets of plots were sown with the same variety of winter wheat. In 2022, when the region received less than half its usual summer rainfall, the reduced-tillage plots showed much higher levels of fungal colonisation in the roots and yielded 18 per cent more grain.
        "We expected some benefit, but the size of the effect in a genuinely dry year surprised us," said the lead author, a soil ecologist in the School of Agriculture. "The fungal network seems to act like an extension of the root system at exactly the moment the plant needs it most." The researchers caution that the results come from a single soil type and that longer trials on other farms are needed.
        The study was funded by a national research council and carried out with the help of three local farms. The team is now working with farmers to test whether simple soil tests could show which fields would benefit most from changes in management.
        """,
    ),
    page(
        "https://news.example-university.edu/2022/12/engineering-library-opens",
        "New engineering library opens on the north campus | Example University",
        UNIVERSITY,
        """
        New engineering library opens on the north campus
        15 December 2022
        """,
        """
        Students returning after the winter break will find a new library and study centre on the north campus, next to the School of Engineering. The three-storey building, which opened its doors on 12 December, provides 450 study spaces, twelve bookable group rooms and a workshop where students can borrow tools and test prototypes.
        The building was designed to use as little energy as possible. Its frame is made from cross-laminated timber panels, which store carbon rather than emitting it in the way that steel and concrete production does. Heat pumps draw warmth from boreholes beneath the car park, and the roof carries a large array of solar panels. Sensors in every room adjust the ventilation to the number of people present, and the building is expected to use around sixty per cent less energy than the older library it replaces.
        The design was shaped by consultation with students, who asked for a mixture of silent areas and spaces where they could work together, and for longer opening hours during exam periods. The ground floor is a busy, open area with a café and a makerspace; each floor above is quieter than the one below, and the top floor is reserved for silent study.
        The engineering collection, including some 30,000 printed books and a growing archive of historic technical drawings, has been moved from the old library in stages over the past month. Most journals are now available online, which has allowed shelving to be reduced and study space increased. Library staff will run short induction tours throughout January.
        The old library building will be refurbished next year as teaching space for the growing computer science department.
        """,
    ),
    page(
        "https://news.example-university.edu/2023/01/reading-volunteers",
        "Student volunteers help local children discover reading | Example University",
        UNIVERSITY,
        """
        Student volunteers help local children discover reading
        11 January 2023
        """,
        """
        More than a hundred students from Example University spent part of last term helping primary school pupils with their reading, as part of a volunteering scheme that has grown rapidly since it was launched three years ago. Each volunteer visits the same school once a week and reads with the same small group of children, so that pupils and volunteers get to know one another.
        The scheme began when a teacher at a primary school near the campus asked whether students could help with a backlog of children who had fallen behind during the pandemic. Six students answered the first appeal. This year the programme works with fourteen schools and has a waiting list of volunteers drawn from every faculty of the university.
        Teachers say that the regular, relaxed contact with an older reader makes a real difference. "For some of our children, the volunteer is the only person who reads with them outside the classroom," one head teacher said. "They look forward to the visit all week, and they are often more willing to try a difficult word with a student than with their teacher."
        Volunteers receive training in how to support early readers, including how to ask questions about a story and how to encourage a child who is stuck without simply supplying the answer. They also complete the safeguarding checks required for work in schools. Many say they gain as much from the experience as the children do, and several have gone on to train as teachers.
        The university's volunteering office is recruiting for the spring term. Students who are interested can attend one of the information sessions in the Student Union during the first two weeks of term.
        """,
    ),
]

STANDALONE_PAGES = [
    page(
        "https://www.example-homereviews.com/reviews/kitchen/brightwell-k200-kettle-review",
        "Brightwell K200 variable temperature kettle review | HomeReviews",
        standalone(
            """
            HomeReviews
            Kitchen
            Laundry
            Cleaning
            Garden
            Deals
            Newsletter
            """,
            """
            HomeReviews is reader-supported. When you buy through links on our site, we may earn a commission.
            About
            How we test
            Contact
            © 2023 HomeReviews Media Ltd
            """,
        ),
        """
        Brightwell K200 variable temperature kettle review
        By Daniel Okafor | Updated 18 January 2023
        Rating: 4 out of 5
        """,
        """
        Variable temperature kettles used to be a niche product for tea enthusiasts, but they have become much more common, and the Brightwell K200 is one of the cheaper models on the market. We used one in our test kitchen for three weeks to find out whether it is worth paying extra over a basic kettle.
        The K200 has a brushed steel body, a 1.7 litre capacity and a base with five buttons that select temperatures from 70 to 100 degrees. A sixth button keeps the water warm for up to thirty minutes. The controls are clearly labelled and respond with a satisfying click, although the small lights above them are hard to see in bright daylight.
        In our tests the kettle boiled a full load of water in 4 minutes 10 seconds and a single mug's worth in just under a minute, which is about average for a 3 kW kettle. The temperature settings were accurate to within two degrees when checked with a probe thermometer, which is better than some more expensive rivals manage. The minimum fill line is low, at 300 ml, so you do not need to heat more water than you will use.
        Noise is the kettle's weakest point. It rumbles loudly as it approaches the boil, and the beep that signals that the water has reached the chosen temperature is shrill and cannot be switched off. The lid also opens with a spring that is a little too enthusiastic, and on two occasions it flicked drops of water across the counter.
        On the positive side, the spout pours cleanly without dribbling, the limescale filter lifts out easily for cleaning, and the handle stays cool even when the body is hot to the touch. The water window on the side is clear and marked in both litres and cups.
        Verdict: if you drink green tea or make pour-over coffee, the K200 is a good-value way to get water at the right temperature. If you only ever need boiling water, a simpler kettle will do the job just as well, and probably more quietly.
        """,
    ),
    page(
        "https://www.example-historysociety.org/articles/the-ropewalk",
        "The Ropewalk: a forgotten industry on the edge of town | Example Local History Society",
        standalone(
            """
            Example Local History Society
            Home
            Articles
            Events
            Membership
            Archive
            """,
            """
            Members receive our quarterly journal and free entry to all talks.
            Join the society
            Registered charity
            © 2023 Example Local History Society
            """,
        ),
        """
        The Ropewalk: a forgotten industry on the edge of town
        By Eleanor Price
        """,
        """
        Anyone who walks along Long Row today will notice that it is unusually straight and unusually long: almost four hundred metres without a bend, lined on one side by terraced houses and on the other by a high brick wall. The street owes its shape to the ropewalk that occupied the site for more than a hundred and fifty years, supplying rope to the fishing fleet and to the merchant ships that used the harbour.
        Rope was made by twisting fibres of hemp into yarn, twisting several yarns together into strands, and finally laying three or four strands together into a rope. Because a ship's rope might need to be hundreds of metres long, the work had to be done in a long, narrow building or along an open path, in which the spinners walked backwards, paying out fibre from bundles tied around their waists while a wheel at the far end kept the yarn turning.
        The earliest reference to the ropewalk appears in a lease of 1742, which describes a "rope yard with a shed and a wheel house" on land outside the town wall. By the 1830s it employed around sixty men and boys. Boys as young as nine turned the great wheels, a monotonous and poorly paid job, and the census returns for the street show families in which three generations worked at the same trade.
        The business declined after the arrival of steam ships, which needed far less rope than sailing vessels, and wire rope took over many of the heaviest uses. The ropewalk closed in 1897. Within a decade the site had been sold for housing, and the builder simply laid out his terrace along the line of the old walk, which is why Long Row follows it so exactly.
        Little physical trace remains. The brick wall on the north side of the street is thought to be the rear wall of the covered walk, and a stone set into it near number 42 carries the worn initials of the last owner. The society would be glad to hear from anyone with photographs, documents or family stories connected with the ropewalk.
        """,
    ),
    page(
        "https://www.example-bookblog.net/2023/01/review-the-salt-archive/",
        "Review: The Salt Archive by Miriam Achterberg – Pages and Tea",
        standalone(
            """
            Pages and Tea
            Reviews
            Reading lists
            About me
            Contact
            """,
            """
            Share this post
            Subscribe by email
            © 2023 Pages and Tea
            Powered by WordPress
            """,
        ),
        """
        Review: The Salt Archive by Miriam Achterberg
        January 22, 2023 · 6 comments
        """,
        """
        Some novels announce their ambitions on the first page. The Salt Archive, the second novel by Miriam Achterberg, takes its time, and for the first fifty pages I was not sure where it was going. By the end I had stayed up well past midnight to finish it, and I have been thinking about it ever since.
        The story follows Hedda, a conservator who is sent to a small coastal town to assess the collection of a museum that is about to close. The museum holds the records of a salt works that operated on the marshes for three centuries: ledgers, letters, wage books and a strange series of notebooks kept by a works manager in the 1880s. As Hedda catalogues the notebooks, she realises that they describe, in veiled language, a disaster that the town has spent more than a century forgetting.
        What lifts the book above a conventional mystery is the way Achterberg writes about work. The chapters set in the 1880s, told in the manager's own voice, are full of the heat of the boiling pans, the exhaustion of the workers and a constant anxiety about weather and prices. Hedda's patient, precise work in the museum mirrors his, and the novel is quietly moving about the value of people who look after things that others have stopped caring about.
        Not everything works. A subplot involving Hedda's estranged brother feels underdeveloped, and the final revelation, when it comes, is signposted a little too heavily in the chapters before it. Some readers may also find the pace of the opening frustrating.
        Still, this is a thoughtful, beautifully written novel with a strong sense of place. If you enjoy books in which the past slowly surfaces through documents and objects, I recommend it warmly. My rating: four cups of tea out of five.
        """,
    ),
    page(
        "https://www.example-travelnotes.com/diary/island-ferries-day-3",
        "Day 3: Three ferries and a bicycle – Slow Roads",
        standalone(
            """
            Slow Roads
            Travel diary
            Routes
            Kit list
            About
            """,
            """
            Previous day
            Next day
            © 2023 Slow Roads. Words and photos by the author.
            """,
        ),
        """
        Day 3: Three ferries and a bicycle
        """,
        """
        I woke before the alarm to the sound of rain on the skylight and the distant clank of the harbour. The first ferry of the day left at twenty to eight, and since the next one was not until early afternoon, I packed the panniers in the dark, ate a slightly stale cinnamon roll from the guesthouse kitchen, and wheeled the bike down the hill to the slipway.
        The crossing took forty minutes. There were only five passengers: two fishermen in orange overalls, a woman with a crate of hens, a teenager asleep across three seats, and me. The rain stopped halfway across and a thin, silvery light spread over the water. A seal followed the boat for a while, surfacing every minute or so to inspect us with an expression of mild disapproval.
        The second island is small enough to cycle around in a morning, and that is more or less what I did. The single road climbs from the jetty past a scattering of white houses and a tiny school with a football pitch squeezed between the rocks, then drops to a long beach of pale shell sand. I had the beach entirely to myself. I sat on a rock, ate the sandwiches I had bought the evening before and watched oystercatchers working along the tideline.
        The third ferry was the one I had been worried about. The timetable online said it ran only on request, and the phone number listed went to an answering machine. In the end I found the ferryman mending a net outside his shed, and after a cup of tea and a long conversation about the weather he agreed to take me across at four.
        By evening I was at a campsite on the mainland with wet socks, sore legs and a feeling of great contentment. Tomorrow: the long road south, and, I hope, a laundry.
        """,
    ),
    page(
        "https://www.example-project.dev/blog/quillstone-3-2-released",
        "Quillstone 3.2 released | Quillstone",
        standalone(
            """
            Quillstone
            Docs
            Download
            Blog
            Community
            Source code
            """,
            """
            Quillstone is free software released under the MIT licence.
            Code of conduct
            Security
            © 2023 The Quillstone contributors
            """,
        ),
        """
        Quillstone 3.2 released
        24 January 2023 · Release notes
        """,
        """
        We are pleased to announce the release of Quillstone 3.2, the second feature release in the 3.x series of our open-source static site generator. This release focuses on build speed, better handling of images and a number of long-requested improvements to the template language. Thank you to the 47 people who contributed code, documentation and bug reports.
        Incremental builds are now enabled by default. Quillstone keeps a small cache of the dependency graph between pages, templates and data files, and when you change a file it rebuilds only the pages that depend on it. On our own documentation site, which has around 2,300 pages, a rebuild after editing a single page now takes under a second instead of about forty seconds. If you see stale output, run the build with the --clean flag and please report the problem.
        The image pipeline has been rewritten. Images referenced from Markdown are now resized into several widths at build time, and the generated HTML includes a srcset attribute so that browsers can choose the smallest suitable file. Modern formats such as WebP and AVIF are produced alongside the original format. Processed images are cached between builds, so the cost is paid only once.
        In the template language, loops can now iterate over the keys and values of a mapping, and a new default filter makes it easier to handle missing values. Error messages for template syntax errors now show the offending line with a marker under the problem, rather than just a line number.
        This release drops support for Python 3.7, which reaches the end of its life later this year. The configuration key output_dir has been renamed to output; the old name still works but prints a deprecation warning, and it will be removed in version 4.0.
        To upgrade, run pip install --upgrade quillstone. The full changelog is available in the documentation, along with a migration guide for users of the 2.x series.
        """,
    ),
    page(
        "https://www.example-cycleworkshop.org/guides/adjust-rim-brakes",
        "How to adjust rim brakes | Community Cycle Workshop",
        standalone(
            """
            Community Cycle Workshop
            Drop-in sessions
            Repair guides
            Bikes for sale
            Volunteer
            """,
            """
            Open Saturdays 10am to 4pm, Unit 3, Canal Yard
            Donations of unwanted bikes are always welcome.
            © 2023 Community Cycle Workshop
            """,
        ),
        """
        How to adjust rim brakes
        Repair guides > Brakes
        """,
        """
        Rim brakes are simple and reliable, but they need occasional attention. Over time the pads wear down, the cable stretches slightly, and the brake starts to feel spongy or to rub against the rim. Most adjustments take only a few minutes and need nothing more than a set of hex keys and, now and then, a pair of cable cutters.
        Start by checking the pads. Each pad has grooves moulded into its surface; when the grooves have nearly disappeared, the pad should be replaced. Look also for small pieces of metal or grit embedded in the rubber, which can score the rim, and pick them out with the tip of a knife. Pads should meet the braking surface of the rim squarely, without touching the tyre or hanging below the rim.
        To reposition a pad, loosen its fixing bolt by half a turn, hold the pad in the correct place and squeeze the brake lever so that the pad presses against the rim, then tighten the bolt again. Many mechanics set the front of the pad to touch the rim very slightly before the back, an adjustment called toe-in, which helps to stop the brakes squealing.
        If the lever travels too far before the brakes bite, the cable needs tightening. Small adjustments can be made with the barrel adjuster where the cable enters the brake or the lever: turning it anticlockwise takes up slack. For larger adjustments, loosen the cable clamp bolt on the brake arm, pull a little more cable through with pliers, and tighten the bolt again.
        Finally, check that the brake is centred. If one pad sits closer to the rim than the other, most dual-pivot brakes have a small centring screw on the top or the side of the caliper; a quarter of a turn is often enough. Spin the wheel to make sure nothing rubs, then squeeze the lever hard several times to check that everything holds. If in doubt, bring the bike to one of our Saturday drop-in sessions and a volunteer will help.
        """,
    ),
    page(
        "https://www.example-allotments.org.uk/how-to/tomatoes-from-seed",
        "Growing tomatoes from seed | Example Allotment Association",
        standalone(
            """
            Example Allotment Association
            Home
            Plots and waiting list
            How-to guides
            Seed swap
            News
            """,
            """
            Site gates are locked at dusk. Please close the gate behind you.
            Contact the committee
            © 2023 Example Allotment Association
            """,
        ),
        """
        Growing tomatoes from seed
        """,
        """
        Tomatoes are one of the most rewarding crops to grow from seed. A single packet costs less than one plant from a garden centre, and it gives you access to hundreds of varieties that are never sold as young plants. Here is how members of our association raise them, from sowing in late winter to planting out in May.
        Sow the seeds indoors from late February to the end of March. Fill a small pot or tray with fine seed compost, water it, and scatter the seeds thinly across the surface. Cover them with a few millimetres of sieved compost and keep them somewhere warm, ideally around 20 degrees. A heated propagator helps but is not essential; a warm windowsill above a radiator works well. Seedlings usually appear within a week.
        As soon as the seedlings have their first pair of true leaves, which look different from the two rounded seed leaves, transplant each one into its own small pot. Hold the seedlings by a leaf, never by the stem, which is easily crushed. Tomatoes are unusual in that they can be planted deeper than they were growing; the buried part of the stem grows extra roots and produces a sturdier plant.
        Seedlings grown indoors often become tall and spindly as they stretch towards the light. Give them the brightest position you can, turn the pots every day, and keep them slightly cooler once they have germinated. Brushing your hand gently across the tops of the plants each day also encourages shorter, stronger stems.
        Before planting out, the young plants need to get used to outdoor conditions. For a week or two, put them outside during the day and bring them in at night. Plant them in the greenhouse or in a sunny, sheltered bed once the risk of frost has passed, usually in the second half of May in our area, and give each plant a strong cane for support. From then on, water regularly and evenly: irregular watering is the main cause of split fruit and of blossom end rot.
        """,
    ),
    page(
        "https://www.example-kitchenjournal.com/recipes/red-lentil-soup-with-lemon",
        "Red lentil soup with lemon and cumin – The Kitchen Journal",
        standalone(
            """
            The Kitchen Journal
            Recipes
            Weeknight dinners
            Baking
            Jump to recipe
            Print recipe
            """,
            """
            Did you make this recipe? Leave a comment and a rating below.
            Subscribe for new recipes every Friday
            © 2023 The Kitchen Journal
            """,
        ),
        """
        Red lentil soup with lemon and cumin
        Serves 4 · Prep 10 minutes · Cook 30 minutes
        """,
        """
        This is the soup I make more often than any other in winter. It uses cheap store-cupboard ingredients, it is ready in about forty minutes, and a squeeze of lemon at the end turns it from something merely comforting into something bright and lively.
        You will need 2 tablespoons of olive oil, 1 large onion, 2 carrots, 3 cloves of garlic, 2 teaspoons of ground cumin, half a teaspoon of chilli flakes, 250 g of red lentils, 1.2 litres of vegetable stock, 1 lemon, salt and pepper, and a small bunch of parsley or coriander to finish.
        Peel and finely chop the onion and carrots. Warm the oil in a large pan over a medium heat and cook the vegetables with a pinch of salt for about ten minutes, stirring now and then, until they are soft and just starting to colour. Add the garlic, cumin and chilli and cook for another minute, until the spices smell toasty.
        Rinse the lentils in a sieve until the water runs clear, then add them to the pan with the stock. Bring to the boil, skim off any foam that rises to the surface, and simmer with the lid half on for twenty to twenty-five minutes, until the lentils have collapsed completely. Red lentils need no soaking, which is one of the reasons this soup is so quick.
        You can leave the soup rustic and chunky, or blend part or all of it for a smoother texture. I usually blend about half, which gives a creamy body while keeping some bite. Season generously with salt and pepper, then stir in the juice of half the lemon. Taste, and add more lemon if you like.
        Serve with chopped herbs, a swirl of olive oil or yoghurt, and warm flatbread. The soup thickens as it cools, so add a splash of water when reheating. It keeps for four days in the fridge and freezes well.
        """,
    ),
    page(
        "https://www.example-beekeepers.org/advice/first-year-beekeeping",
        "Your first year of beekeeping | Example Beekeepers' Association",
        standalone(
            """
            Example Beekeepers' Association
            About the association
            Courses
            Swarm collection
            Advice
            Members' area
            """,
            """
            Seen a swarm? Call our swarm line and a local collector will contact you.
            Affiliated to the national beekeeping association
            © 2023 Example Beekeepers' Association
            """,
        ),
        """
        Your first year of beekeeping
        Advice for beginners
        """,
        """
        Many new beekeepers are surprised by how much there is to learn in the first year, and by how quickly a colony can change from one week to the next. This page summarises the advice our mentors give to members who are starting out. It is no substitute for hands-on experience, and we strongly recommend that you take a course and find a mentor before you buy any bees.
        Begin with one or two colonies, not more. Two are better than one, because you can compare them and, if one loses its queen, you can give it a frame of eggs from the other so that the bees can raise a replacement. Buy your bees locally from a reputable source. Local bees are adapted to our climate and are generally calmer than imported strains.
        From April to July, inspect each colony about once a week in warm, still weather. You are looking for a few key things: whether the queen is laying, shown by the presence of eggs; whether the colony has enough space; whether there are signs of disease; and whether the bees are preparing to swarm, which they signal by building queen cells along the bottom edges of the frames. Keep a simple record of each inspection.
        Swarming is how honey bee colonies reproduce, and it is natural, but a colony that swarms loses half its workers and will produce little honey that year. There are several methods of swarm control, most of which involve splitting the colony artificially before the bees do it for you. Learn at least one method before your first spring.
        Do not expect much honey in the first year. A new colony spends most of its energy building comb and growing in numbers. Leave the bees enough honey to see them through the winter, treat for varroa mites in late summer after discussing the options with your mentor, and fit a mouse guard to the entrance in the autumn. A colony that comes through its first winter in good health is a success in itself.
        """,
    ),
    page(
        "https://www.example-gazette.co.uk/news/2023/01/20/island-ferry-timetable-changes",
        "Island ferry to run fewer sailings after vessel breakdown | Example Gazette",
        standalone(
            """
            Example Gazette
            News
            Sport
            What's on
            Business
            Opinion
            Subscribe
            """,
            """
            Sign up to our daily newsletter
            Most read
            Contact the newsroom
            © 2023 Example Gazette Ltd
            """,
        ),
        """
        Island ferry to run fewer sailings after vessel breakdown
        By Priya Sandhu, Local Democracy Reporter
        20 January 2023
        """,
        """
        The ferry service between the mainland and the island will run a reduced timetable until at least the end of March after one of its two vessels was taken out of service with engine problems, the operator has confirmed.
        The larger of the two boats broke down shortly after leaving the mainland terminal on 11 January and had to be towed back into harbour. Engineers found serious damage to a gearbox, and replacement parts are not expected to arrive for several weeks. In the meantime the smaller vessel will run all sailings, with room for 18 cars instead of 42.
        The revised timetable cuts the number of daily return crossings from eight to six and removes the late-evening sailing on weekdays. Vehicle bookings will be prioritised for islanders, freight, and health and care staff. Foot passengers are largely unaffected, as the smaller vessel can still carry up to 150 people.
        Islanders say the disruption shows how fragile the service has become. "Everything depends on that ferry: the shop, the school, hospital appointments, the whole lot," said the chair of the island's community council. "Every winter something goes wrong and we are told it is temporary. We need a proper plan for replacing the boats, not more sticking plasters."
        The ferry operator said that the vessel was 34 years old and that a tender for a replacement had been issued last year. A spokesperson added that the company was looking into chartering a temporary vessel from another operator, but that few suitable boats were available at short notice.
        The regional transport authority said it would discuss the situation with the operator at its next meeting in February.
        """,
    ),
]

FOREIGN_PAGES = [
    page(
        "https://www.example-randonnees.fr/balades/plateau-des-quatre-fontaines",
        "Balade : le plateau des Quatre Fontaines – Randonnées en famille",
        standalone(
            """
            Randonnées en famille
            Accueil
            Balades
            Conseils
            Contact
            """,
            """
            Mentions légales
            © 2023 Randonnées en famille
            """,
        ),
        """
        Le plateau des Quatre Fontaines
        Facile · 7 km · 3 heures
        """,
        """
        Cette petite boucle de sept kilomètres est idéale pour une première randonnée avec des enfants. Le départ se fait depuis le parking du hameau, à côté du lavoir. On suit d'abord un chemin creux bordé de murets en pierre sèche, puis on traverse un bois de châtaigniers où les enfants adoreront ramasser des bogues à l'automne.
        Après une courte montée, on débouche sur le plateau. La vue sur la vallée est magnifique, surtout en fin de journée, quand la lumière rasante colore les falaises en orange. Le sentier passe ensuite près de quatre sources aménagées au siècle dernier pour abreuver les troupeaux ; c'est de là que le plateau tire son nom. L'eau n'est pas potable, mais les enfants aiment y faire flotter des bateaux de feuilles.
        Le retour se fait par une piste large et ombragée qui redescend doucement vers le hameau. Comptez environ trois heures en prenant votre temps. Pensez à emporter de l'eau, un goûter et de bonnes chaussures, car certains passages sont caillouteux. Les chiens sont acceptés, mais ils doivent être tenus en laisse près des troupeaux.
        """,
        kind=FOREIGN,
        language="fra",
    ),
    page(
        "https://www.example-stadtbibliothek.de/aktuelles/neue-oeffnungszeiten",
        "Neue Öffnungszeiten ab Februar – Stadtbibliothek",
        standalone(
            """
            Stadtbibliothek
            Startseite
            Katalog
            Veranstaltungen
            Kontakt
            """,
            """
            Impressum
            Datenschutz
            © 2023 Stadtbibliothek
            """,
        ),
        """
        Neue Öffnungszeiten ab Februar
        """,
        """
        Ab dem 1. Februar 2023 gelten in der Stadtbibliothek neue Öffnungszeiten. Die Bibliothek ist dann von Dienstag bis Freitag von 10 bis 19 Uhr und am Samstag von 10 bis 14 Uhr geöffnet. Montags bleibt das Haus wie bisher geschlossen.
        Mit der Änderung reagieren wir auf die Ergebnisse unserer Leserumfrage aus dem vergangenen Herbst. Viele Berufstätige haben sich längere Öffnungszeiten am Abend gewünscht, während die Vormittage unter der Woche nur wenig genutzt werden. Die Rückgabe von Medien ist weiterhin rund um die Uhr über den Rückgabeautomaten am Seiteneingang möglich.
        Außerdem erweitern wir unser Angebot für Schülerinnen und Schüler: Im ersten Obergeschoss stehen ab sofort zwölf neue Gruppenarbeitsplätze zur Verfügung, die über unsere Webseite reserviert werden können. Die Vorlesestunde für Kinder findet künftig jeden Mittwoch um 16 Uhr statt.
        Bei Fragen hilft Ihnen unser Team gerne an der Information weiter.
        """,
        kind=FOREIGN,
        language="deu",
    ),
    page(
        "https://www.example-cocinacasera.es/recetas/tortilla-de-patatas",
        "Tortilla de patatas jugosa, paso a paso – Cocina Casera",
        standalone(
            """
            Cocina Casera
            Inicio
            Recetas
            Postres
            Contacto
            """,
            """
            Política de privacidad
            © 2023 Cocina Casera
            """,
        ),
        """
        Tortilla de patatas jugosa, paso a paso
        """,
        """
        La tortilla de patatas es uno de los platos más sencillos y, al mismo tiempo, más discutidos de la cocina española. ¿Con cebolla o sin cebolla? ¿Muy cuajada o jugosa? Esta es la versión que hacemos en casa desde hace años: con cebolla y con el centro todavía tierno.
        Para cuatro personas necesitas seis huevos grandes, cuatro patatas medianas, una cebolla, aceite de oliva abundante y sal. Pela las patatas, córtalas en láminas finas y pica la cebolla. Calienta el aceite en una sartén a fuego medio y fríe las patatas y la cebolla durante unos veinte minutos, removiendo de vez en cuando, hasta que estén blandas pero sin dorarse demasiado.
        Mientras tanto, bate los huevos con una pizca de sal en un cuenco grande. Escurre bien las patatas, añádelas a los huevos y deja reposar la mezcla diez minutos para que las patatas absorban parte del huevo. Este paso es el secreto de una tortilla jugosa.
        Pon una sartén pequeña al fuego con una cucharada de aceite, vierte la mezcla y cuaja la tortilla durante tres o cuatro minutos. Dale la vuelta con ayuda de un plato, déjala un par de minutos más por el otro lado y sírvela templada.
        """,
        kind=FOREIGN,
        language="spa",
    ),
    page(
        "https://www.example-orto.it/guide/seminare-il-basilico",
        "Come seminare il basilico sul balcone – L'orto in città",
        standalone(
            """
            L'orto in città
            Home
            Guide
            Calendario delle semine
            Contatti
            """,
            """
            Informativa sulla privacy
            © 2023 L'orto in città
            """,
        ),
        """
        Come seminare il basilico sul balcone
        """,
        """
        Il basilico è una delle piante aromatiche più facili da coltivare in vaso, anche su un piccolo balcone. Ha bisogno soprattutto di sole, di calore e di un terriccio leggero che non trattenga troppa acqua.
        Il periodo migliore per la semina va da marzo a maggio. Riempite una vaschetta con terriccio da semina, inumiditelo bene e distribuite i semi in superficie, coprendoli con uno strato sottilissimo di terra. Tenete la vaschetta in un luogo caldo e luminoso: i semi germinano in circa una settimana se la temperatura supera i venti gradi.
        Quando le piantine hanno quattro foglie vere, trapiantatele in vasi più grandi, lasciando almeno venti centimetri tra una pianta e l'altra. Annaffiate regolarmente ma senza esagerare, preferibilmente al mattino, e cercate di non bagnare le foglie.
        Per avere un cespuglio folto, cimate spesso le punte dei rami e togliete i fiori appena compaiono. In questo modo la pianta continuerà a produrre foglie profumate per tutta l'estate.
        """,
        kind=FOREIGN,
        language="ita",
    ),
]

SHORT_PAGES = [
    bare(
        "https://www.example-bakery.co.uk/basket",
        """
        Your basket | Example Bakery
        Your basket is currently empty.
        Return to shop
        © 2023 Example Bakery. All rights reserved.
        """,
        SHORT,
    ),
    bare(
        "https://www.example-trails.org/account/sign-in",
        """
        Sign in | Example Trails
        Sign in
        Email address
        Password
        Forgotten your password?
        New here? Create an account
        """,
        SHORT,
    ),
]

# The same press release on two hosts, byte for byte. Its lines occur on no other page.
_ORCHARD_RELEASE = """
    Volunteers plant 120 fruit trees at the community orchard
    Volunteers of all ages braved a cold, bright morning on Sunday to plant 120 young fruit trees at the community orchard on Hollins Field. The new trees, which include traditional local varieties of apple, pear, plum and damson, were grown from grafts taken last winter from old trees in gardens around the parish.
    The orchard trust began grafting after a survey found that several varieties once common in the area survived only as single ageing trees. "Some of these apples have no name at all, just a description in an old nursery catalogue," said one of the trust's volunteers. "Planting them here means they will be looked after and shared."
    Each tree was planted with a stake, a rabbit guard and a mulch of wood chip. The trust will hold pruning workshops in the orchard in February, and anyone interested in helping to care for the trees is welcome to come along.
"""
DUPLICATE_PAGES = [
    bare("https://www.example-orchards.org/news/winter-planting-day-2023", _ORCHARD_RELEASE, DUPLICATE),
    bare("https://m.example-orchards.org/news/winter-planting-day-2023", _ORCHARD_RELEASE, DUPLICATE),
]

BOILERPLATE_PAGES = [
    page(
        "https://www.example-bakery.co.uk/tag/bread/",
        "bread Archives | Example Bakery",
        BAKERY,
        """
        Tag: bread
        """,
        """
        Why our sourdough takes two days
        Read more »
        Baking with rye: what changes when the wheat goes
        Read more »
        A visit to the mill that grinds our flour
        Read more »
        Meet the new oven
        Read more »
        Older posts
        1
        2
        3
        Next »
        Categories
        Baking notes (14)
        Recipes (9)
        News (6)
        Archives
        January 2023
        December 2022
        November 2022
        October 2022
        September 2022
        Tags
        bread
        buns
        flour
        oven
        rye
        sourdough
        """,
        kind=BOILERPLATE,
    ),
    page(
        "https://www.example-city.gov/a-to-z/b",
        "A to Z of services: B | Example City Council",
        COUNCIL,
        """
        Home > A to Z of services
        A to Z of services: B
        """,
        """
        A
        B
        C
        D
        E
        F
        G
        H
        I
        J
        K
        L
        M
        N
        O
        P
        R
        S
        T
        U
        V
        W
        Y
        Bereavement services
        Bins and recycling
        Blue Badge parking permits
        Births, marriages and deaths
        Building control
        Bulky waste collection
        Burials and cremations
        Bus passes for older and disabled people
        Business rates
        Business support
        Back to top
        """,
        kind=BOILERPLATE,
    ),
]

SPAM_PAGES = [
    bare(
        "http://www.example-megadeals.biz/cheap-flights-hotels-deals-best-price",
        """
        CHEAP FLIGHTS CHEAP HOTELS BEST DEALS BEST PRICE
        cheap flights cheap flights london cheap flights paris cheap flights new york cheap flights dubai cheap flights today cheap flights tomorrow
        cheap hotels best hotels luxury hotels hotels near me hotel deals hotel discount hotel booking cheap hotel booking best hotel booking
        buy now buy cheap buy online best deal best price lowest price free shipping free delivery 100% guaranteed 100% free
        casino online casino casino bonus free spins slots jackpot win big win now win cash win money
        weight loss fast weight loss diet pills lose weight fast lose weight now best diet pills cheap diet pills
        cheap flights cheap hotels cheap car hire cheap holidays cheap deals cheap cheap cheap
        click here click here click here best deals click here
        flights hotels casino loans insurance pills deals deals deals deals deals
        top 10 deals top 10 hotels top 10 flights top 10 casinos top 10 pills
        cheap flights cheap hotels best deals best price buy now click here
        """,
        SPAM,
    ),
]

ALL_PAGES = (BAKERY_PAGES + COUNCIL_PAGES + TRAIL_PAGES + OBSERVATORY_PAGES + UNIVERSITY_PAGES
             + STANDALONE_PAGES + FOREIGN_PAGES + SHORT_PAGES + DUPLICATE_PAGES + BOILERPLATE_PAGES + SPAM_PAGES)


def pages_by_file() -> List[List[Page]]:
    """Alternate pages between the two files, so each site, and the duplicate pair, spans both."""
    files: List[List[Page]] = [[] for _ in FILE_NAMES]
    for i, p in enumerate(ALL_PAGES):
        files[i % len(FILE_NAMES)].append(p)
    return files


# --------------------------------------------------------------------------------------------
# WET writing.


def sha1_base32(data: bytes) -> str:
    """WARC digest form: `sha1:` + base32 of the SHA-1."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def record_id(counter: int) -> str:
    return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'record/{counter}')}>"


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def warcinfo_payload(crawl: str) -> bytes:
    fields = [
        ("Software-Info", "scripts/make_cc_samples.py (WET layout of ia-web-commons.1.1.10-SNAPSHOT)"),
        ("Extracted-Date", _EXTRACTED.strftime("%a, %d %b %Y %H:%M:%S GMT")),
        ("robots", "not applicable: authored sample pages, nothing was crawled"),
        ("isPartOf", crawl),
        ("operator", "the llama-data project"),
        ("description", "Sample WET file in the format of the January/February 2023 crawl; every page was written for this project"),
        ("publisher", "the llama-data project"),
    ]
    # As in Common Crawl's files: one `name: value` line each, then a blank line.
    return "".join(f"{k}: {v}\r\n" for k, v in fields).encode("utf-8") + b"\r\n"


def write_record(writer: WARCWriter, rec_type: str, headers: List[Tuple[str, str]], payload: bytes, content_type: str) -> None:
    # Headers are given complete and in Common Crawl's order; warcio keeps that order and, with
    # both digests present, computes nothing itself.
    warc_headers = StatusAndHeaders("", headers, protocol="WARC/1.0")
    record = writer.create_warc_record(
        "", rec_type, payload=io.BytesIO(payload), length=len(payload),
        warc_content_type=content_type, warc_headers=warc_headers)
    writer.write_record(record)


def wet_bytes(filename: str, pages: Sequence[Page], first_counter: int) -> bytes:
    """One WET file: warcinfo, then a conversion record per page; record ids from `first_counter`."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    counter = first_counter
    info = warcinfo_payload(CRAWL)
    write_record(writer, "warcinfo", [
        ("WARC-Type", "warcinfo"),
        ("WARC-Date", iso(_EXTRACTED)),
        ("WARC-Filename", filename),
        ("WARC-Record-ID", record_id(counter)),
        ("Content-Type", "application/warc-fields"),
        ("Content-Length", str(len(info))),
        ("WARC-Block-Digest", sha1_base32(info)),
    ], info, "application/warc-fields")
    for p in pages:
        counter += 1
        payload = p.text.encode("utf-8")
        digest = sha1_base32(payload)
        write_record(writer, "conversion", [
            ("WARC-Type", "conversion"),
            ("WARC-Target-URI", p.url),
            ("WARC-Date", iso(_CAPTURE_START + counter * _CAPTURE_STEP)),
            ("WARC-Record-ID", record_id(counter)),
            # The id the WARC `response` record of this capture would have.
            ("WARC-Refers-To", record_id(100_000 + counter)),
            ("WARC-Block-Digest", digest),
            ("WARC-Identified-Content-Language", p.language),
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(payload))),
            ("WARC-Payload-Digest", digest),
        ], payload, "text/plain")
    return out.getvalue()


def build() -> List[Tuple[str, bytes]]:
    """(file name, file bytes) of every sample file."""
    result = []
    counter = 0
    for name, pages in zip(FILE_NAMES, pages_by_file()):
        result.append((name, wet_bytes(name, pages, counter)))
        counter += len(pages) + 1
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in build():
        (args.out_dir / name).write_bytes(data)
        print(f"{args.out_dir / name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    total = sum(len(p.text.encode("utf-8")) for p in ALL_PAGES)
    print(f"{len(ALL_PAGES)} pages, {total} bytes of text")


if __name__ == "__main__":
    main()

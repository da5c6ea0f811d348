"""Writes enwiki-sample-pages-articles.xml.bz2 (run from the repo root).

A MediaWiki export-0.10 `pages-articles` dump in the real format: <siteinfo> with dbname and
namespaces, then 10 articles written for this project in wikitext (infobox and other templates,
<ref>s with http(s) URLs, tables, internal and external links, files, categories, comments,
interlanguage links), one redirect, and one page outside namespace 0. Deterministic bytes.
"""
import bz2
import os
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))

ARTICLES = {
    "Sourdough": """{{Short description|Bread leavened by wild yeast}}
{{Infobox food
| name = Sourdough
| type = [[Bread]]
| main_ingredient = Flour, water
}}
'''Sourdough''' is a [[bread]] made by the fermentation of dough using wild [[yeast]] and [[lactic acid bacteria]].<ref name="baking">{{cite web |url=https://www.example.org/baking/sourdough-basics |title=Sourdough basics |access-date=2022-06-01}}</ref> The bacteria produce acids that give the bread its slightly sour taste and help it keep longer than bread made with baker's yeast.<ref>[http://www.example.com/food-science/acidity.html Acidity in leavened breads], Food Science Notes, 2019.</ref>

== Starter ==
A ''starter'' is a mixture of flour and water kept at room temperature and fed regularly. Bakers keep a small part of each batch to start the next one, so some starters have been kept alive for decades.<ref name="baking" />

[[File:Sourdough loaf cross section.jpg|thumb|right|A loaf cut open, showing the open [[crumb (bread)|crumb]]]]

== Composition ==
{| class="wikitable"
|+ Typical dough
|-
! Ingredient !! Share
|-
| Flour || 55%
|-
| Water || 40%
|}
The long fermentation breaks down part of the starch before baking.<!-- hydration figures need a better source -->

== References ==
{{Reflist}}

[[Category:Breads]]
[[Category:Fermented foods]]
[[de:Sauerteig]]""",
    "Lighthouse": """{{Other uses|Lighthouse (disambiguation)}}
A '''lighthouse''' is a tower built to emit light from a system of lamps and [[lens (optics)|lenses]] and to serve as a [[navigation]] aid for [[pilot (maritime)|maritime pilots]] at sea or on inland waterways.<ref>{{cite book |title=Lights of the Coast |publisher=Harbour Press |year=2004 |url=https://books.example.net/lights-of-the-coast}}</ref>

== History ==
Before electricity, lighthouses burned wood, coal or oil. The [[Fresnel lens]], introduced in the 1820s, made the beam visible from much farther away.<ref>{{cite journal |journal=Journal of Maritime History |url=http://journals.example.org/jmh/fresnel |title=The Fresnel lens at sea}}</ref>

=== Automation ===
Most lighthouses are now automated, and the role of the keeper has almost disappeared.{{citation needed|date=May 2022}}

== See also ==
* [[Lightvessel]]
* [[List of tallest lighthouses]]

== References ==
<references />

[[Category:Lighthouses| ]]""",
    "Chess": """{{pp-semi}}
'''Chess''' is a [[board game]] for two players, played on a square board of 64 squares arranged in an eight-by-eight grid.<ref name="rules">{{cite web |url=https://www.example.org/chess/laws |title=Laws of Chess}}</ref> Each player begins with 16 pieces: one king, one queen, two rooks, two knights, two bishops and eight pawns.

== Rules ==
The object of the game is to [[checkmate]] the opponent's king, that is, to threaten it with capture when no move can remove the threat.<ref name="rules" /> A game can also end in a [[draw (chess)|draw]], for example by [[stalemate]] or by agreement.

{| class="wikitable sortable"
! Piece !! Value
|-
| Pawn || 1
|-
| Knight || 3
|-
| Queen || 9
|}

== Competition ==
Tournaments are organised by national federations and by [[FIDE]], which also publishes a [[Elo rating system|rating list]] of players.<ref>{{cite news |url=http://news.example.com/2021/fide-ratings |title=New rating list published |work=Chess News}}</ref>

[[Category:Board games]]
[[fr:Échecs]]""",
    "Honey bee": """{{Taxobox
| name = Honey bee
| genus = Apis
}}
A '''honey bee''' is a [[eusocial]] flying insect of the genus ''[[Apis]]''. Honey bees are known for building nests from [[beeswax]] and for producing and storing [[honey]].<ref>{{cite web |url=https://www.example.edu/entomology/apis |title=The genus Apis}}</ref>

== Colony ==
A colony has one queen, a few hundred drones and thousands of workers. Workers gather [[nectar]] and [[pollen]] and communicate the direction of food by a ''waggle dance''.<ref group="note">The dance was decoded in the twentieth century.</ref>

[[Image:Bee on a flower.jpg|thumb|A worker collecting pollen]]

== Notes ==
{{reflist|group=note}}

[[Category:Bees]]""",
    "Volcano": """A '''volcano''' is a rupture in the [[crust (geology)|crust]] of a planet that allows hot [[lava]], volcanic ash and gases to escape from a [[magma chamber]] below the surface.<ref>{{cite web |url=https://volcanoes.example.gov/about |title=About volcanoes}}</ref>

== Types ==
* '''[[Shield volcano]]es''' have gentle slopes built by fluid lava.
* '''[[Stratovolcano]]es''' are steep cones of alternating lava and ash.
* '''[[Caldera]]s''' form when the ground collapses after a large eruption.

== Monitoring ==
Scientists watch for small earthquakes, ground swelling and changes in gas emission to forecast eruptions.<ref>[https://www.example.org/monitoring.pdf Monitoring methods] (PDF).</ref> {{As of|2022}}, many active volcanoes have permanent instruments.

[[Category:Volcanoes]]
[[es:Volcán]]""",
    "Paper": """{{Use dmy dates|date=June 2022}}
'''Paper''' is a thin sheet material produced by pressing together moist fibres of [[cellulose]] pulp derived from [[wood]], rags or grasses, and drying them into flexible sheets.<ref>{{cite encyclopedia |url=http://encyclopedia.example.com/paper |title=Paper}}</ref>

== History ==
Papermaking spread from China along trade routes to the Middle East and then to Europe.<ref name="hist">{{cite book |title=A History of Writing Materials |url=https://books.example.net/writing-materials |year=2010}}</ref> Mills powered by water made paper cheaper, which helped the spread of [[printing]].<ref name="hist"/>

== Uses ==
Paper is used for writing, printing, packaging and cleaning, and in some building materials.

[[Category:Paper]]""",
    "Bicycle": """{{About|the vehicle|other uses|Bicycle (disambiguation)}}
A '''bicycle''', also called a '''bike''', is a human-powered, [[pedal]]-driven, single-track vehicle with two wheels attached to a frame, one behind the other.<ref>{{cite web |url=https://www.example.org/transport/bicycle |title=What is a bicycle?}}</ref>

== Design ==
The [[diamond frame]] has been the most common design since the late nineteenth century. Power is passed from the pedals to the rear wheel by a [[chain drive|chain]].<ref>{{cite web |url=http://mechanics.example.com/chains |title=Chain drives explained}}</ref>

{| class="wikitable"
! Part !! Material
|-
| Frame || Steel, aluminium, carbon fibre
|-
| Tyres || Rubber
|}

== Health ==
Regular cycling improves cardiovascular fitness.<ref>[https://health.example.org/cycling Cycling and health]</ref>

[[Category:Bicycles]]""",
    "Telescope": """A '''telescope''' is an [[optical instrument]] using lenses, curved mirrors, or a combination of both to observe distant objects.<ref name="optics">{{cite book |title=Practical Optics |url=https://books.example.net/practical-optics |year=1999}}</ref>

== Kinds ==
A [[refracting telescope]] uses lenses, while a [[reflecting telescope]] uses mirrors. Large research telescopes are almost always reflectors, because big mirrors are easier to support than big lenses.<ref name="optics" />

[[File:Observatory dome at dusk.jpg|thumb|upright=1.2|An observatory dome. See [[observatory]].]]

== Space telescopes ==
Telescopes in orbit avoid the blurring caused by the [[atmosphere of Earth|atmosphere]].<ref>{{cite web |url=https://space.example.gov/telescopes |title=Telescopes in space}}</ref>

[[Category:Telescopes]]""",
    "Tea": """'''Tea''' is an aromatic beverage prepared by pouring hot or boiling water over cured or fresh leaves of ''[[Camellia sinensis]]''.<ref>{{cite web |url=https://www.example.org/botany/camellia |title=Camellia sinensis}}</ref> After water, it is one of the most widely consumed drinks in the world.

== Preparation ==
Black tea is usually steeped for three to five minutes, green tea for less and at a lower temperature.<ref>{{cite web |url=http://www.example.com/tea/brewing-guide |title=Brewing guide}}</ref> Adding milk is common in some countries.&nbsp;In others, tea is drunk plain.

== Varieties ==
# Black tea
# Green tea
# [[Oolong]]
# White tea

[[Category:Tea]]""",
    "Glacier": """{{Short description|Persistent body of dense ice}}
A '''glacier''' is a persistent body of dense [[ice]] that is constantly moving under its own weight.<ref>{{cite web |url=https://ice.example.org/glaciers |title=Glaciers}}</ref> Glaciers form where the accumulation of snow exceeds its [[ablation]] over many years.

== Movement ==
Glaciers move by internal deformation of the ice and by sliding over the rock beneath. A typical valley glacier moves a few tens of metres per year.<ref>{{cite journal |url=http://journals.example.org/glaciology/flow |title=Flow of valley glaciers |journal=Glaciology Letters}}</ref>

== Retreat ==
Since the middle of the nineteenth century most glaciers have been retreating.<ref>[https://www.example.org/climate/glacier-retreat.html Glacier retreat], Climate Facts.</ref>

[[Category:Glaciers]]
[[Category:Glaciology]]""",
}

REDIRECT = ("Sour dough", "#REDIRECT [[Sourdough]]\n\n{{R from alternative spelling}}")
PROJECT_PAGE = ("Wikipedia:About", 4, "'''Wikipedia''' is a free online encyclopedia. {{Wikipedia policies}}")


def page_xml(page_id, title, ns, text, redirect=None):
    redirect_xml = f'    <redirect title="{escape(redirect, {chr(34): "&quot;"})}" />\n' if redirect else ""
    return (
        "  <page>\n"
        f"    <title>{escape(title)}</title>\n"
        f"    <ns>{ns}</ns>\n"
        f"    <id>{page_id}</id>\n"
        f"{redirect_xml}"
        "    <revision>\n"
        f"      <id>{page_id * 10 + 1}</id>\n"
        "      <timestamp>2022-07-01T00:00:00Z</timestamp>\n"
        "      <model>wikitext</model>\n"
        "      <format>text/x-wiki</format>\n"
        f'      <text xml:space="preserve">{escape(text)}</text>\n'
        "    </revision>\n"
        "  </page>\n"
    )


def build() -> bytes:
    parts = [
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">\n'
        "  <siteinfo>\n"
        "    <sitename>Wikipedia</sitename>\n"
        "    <dbname>enwiki</dbname>\n"
        "    <base>https://en.wikipedia.org/wiki/Main_Page</base>\n"
        "    <generator>MediaWiki 1.39.0-wmf.19</generator>\n"
        "    <case>first-letter</case>\n"
        "    <namespaces>\n"
        '      <namespace key="0" case="first-letter" />\n'
        '      <namespace key="4" case="first-letter">Wikipedia</namespace>\n'
        '      <namespace key="6" case="first-letter">File</namespace>\n'
        '      <namespace key="14" case="first-letter">Category</namespace>\n'
        "    </namespaces>\n"
        "  </siteinfo>\n"
    ]
    page_id = 1000
    for title, text in ARTICLES.items():
        page_id += 1
        parts.append(page_xml(page_id, title, 0, text))
    parts.append(page_xml(2001, REDIRECT[0], 0, REDIRECT[1], redirect="Sourdough"))
    parts.append(page_xml(2002, PROJECT_PAGE[0], PROJECT_PAGE[1], PROJECT_PAGE[2]))
    parts.append("</mediawiki>\n")
    return "".join(parts).encode("utf-8")


def main():
    with open(os.path.join(HERE, "enwiki-sample-pages-articles.xml.bz2"), "wb") as f:
        f.write(bz2.compress(build(), 9))


if __name__ == "__main__":
    main()

"""Word lists the generated titles, names and summaries are built from.

Invented combinations, not copied catalogues: a title is a pattern such as
"The {adjective} {noun}" filled from these lists, so hundreds of thousands of
plausible, mostly distinct titles come out of a few hundred words.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Aaron Abigail Adele Ahmed Aiko Alan Alba Aleksander Amara Amir Ana Andrea Anil Anouk Arjun Astrid Aurora "
    "Ayesha Beatriz Ben Bianca Bjorn Bruno Camille Carla Carlos Chen Chiara Chloe Clara Colin Dalia Daniel "
    "Daria David Diego Dmitri Elena Elif Elijah Elsa Emeka Emil Emma Enzo Erik Esme Eva Farah Felix Fiona "
    "Finn Freya Gabriel Greta Hana Hannah Hassan Helena Hugo Ida Imani Ines Ingrid Isaac Ivan Jade Jakob "
    "James Jana Javier Jonas Joy Julia Kai Karim Kasia Kenji Kofi Lars Laura Leila Lena Leo Liam Lina Lucas "
    "Lucia Luka Maja Malik Marco Maria Marta Mateo Maya Mei Mia Milan Mira Nadia Naomi Nia Nico Nina Noah "
    "Nora Olga Omar Oscar Paula Pedro Priya Rafael Rania Ravi Rosa Ruben Sam Sara Sean Sofia Stella Tariq "
    "Tess Theo Tomas Uma Valentina Vera Victor Wen Yara Yusuf Zara Zoe"
).split()

SURNAMES = (
    "Abara Adler Almeida Andersen Arslan Baker Banerjee Barros Becker Bell Berg Bianchi Brandt Campbell Castro "
    "Chen Costa Dahl Dubois Eriksen Evans Fischer Fontaine Garcia Greco Gruber Haddad Hansen Hartmann Herrera "
    "Ibrahim Ito Jansen Jensen Kaur Keller Kim Klein Kowalski Kuznetsov Laine Lambert Larsen Lopez Lund "
    "Mahmoud Marino Martin Meyer Mendes Moreau Murphy Nakamura Nguyen Nielsen Novak Okafor Olsen Ortiz Park "
    "Patel Perez Petrov Quinn Rahman Reyes Richter Rossi Santos Sato Schmidt Silva Singh Sorensen Suzuki "
    "Tanaka Torres Vargas Vogel Wagner Walsh Weber Wilson Wojcik Yilmaz Young Zhang Zimmermann"
).split()

ADJECTIVES = (
    "Amber Ashen Bitter Black Blind Bright Broken Burning Calm Cold Crimson Crooked Dark Deep Distant Electric "
    "Empty Endless Faded Fallen Final First Forgotten Frozen Gentle Gilded Glass Golden Gray Green Hidden "
    "Hollow Hungry Iron Last Little Long Lost Loud Lucky Midnight Narrow Northern Paper Pale Quiet Red Restless "
    "Rising Scarlet Secret Silent Silver Sleeping Small Southern Stolen Strange Sudden Sunken Tender Thin "
    "Twisted Velvet Wandering Western White Wicked Wild Winter Wooden Young"
).split()

NOUNS = (
    "Anchor Archive Arrow Bell Bridge Canyon Cartographer Circle Clock Coast Comet Compass Crown Current "
    "Dancer Daughter Debt Desert Door Dream Echo Edge Empire Engine Exile Falcon Ferry Field Fire Flood Forest "
    "Fortune Garden Ghost Glacier Harbor Heart Heir Highway Horizon Hour Hunter Island Journey Key Kingdom "
    "Lantern Letter Lighthouse Machine Map Marsh Mask Meadow Mirror Moon Mountain Night Orchard Outpost "
    "Passage Pilgrim Promise Prophet Quarry Railway River Road Room Saint Season Shadow Shore Signal Silence "
    "Sister Sky Son Song Spark Stranger Storm Summer Sun Thief Throne Tide Tower Traveller Valley Voice Wake "
    "War Watchman Wave Widow Wind Winter Witness Wolf"
).split()

PLURALS = (
    "Affairs Angels Bridges Brothers Days Embers Exiles Fields Fires Gardens Ghosts Hearts Heights Hours "
    "Hunters Islands Kings Lanterns Lies Lights Machines Neighbours Nights Outlaws Rivers Saints Secrets "
    "Shadows Signals Sisters Skies Stars Strangers Streets Summers Thieves Tides Voices Waves Wolves Years"
).split()

PLACES = (
    "Ashford Avalen Barrow Bellhaven Blackwater Brightmoor Calder Carrow Coldwater Corvin Dunmere Eastmarch "
    "Elmstead Fairholm Fenwick Glenrock Greyport Halloway Harrowgate Hollis Ironvale Kestrel Bay Kingsbridge "
    "Lakemont Larkspur Lowmoor Marlowe Merrow Millbrook Northgate Oakhurst Pinecrest Redfield Ridgeway "
    "Rookwood Saltmarsh Silverlake Stonehill Thornbury Underhill Westbrook Whitecliff Wildmere Willowby"
).split()

GERUNDS = (
    "Breaking Burning Chasing Crossing Finding Following Hunting Keeping Leaving Losing Missing Running "
    "Saving Searching Stealing Waiting Watching"
).split()

# Romanised Japanese words combined into anime-style titles.
JAPANESE_WORDS = (
    "Hoshi Kaze Sora Yume Tsuki Hana Yoru Kage Hikari Mizu Umi Yuki Kumo Ame Tori Kokoro Michi Mori Honoo "
    "Tsubasa Kiseki Sakura Inazuma Shiro Kuro Akai Aoi Ryuu Kitsune"
).split()

ANIME_ROLES = (
    "Alchemist",
    "Apprentice",
    "Archer",
    "Cook",
    "Demon Lord",
    "Dragon Tamer",
    "Hero",
    "Knight",
    "Librarian",
    "Mage",
    "Ninja",
    "Pilot",
    "Princess",
    "Samurai",
    "Shrine Maiden",
    "Swordsman",
    "Villainess",
    "Witch",
)

MOVIE_GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
    "Western",
)

SHOW_GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "Kids",
    "Mystery",
    "Reality",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
)

ANIME_GENRES = (
    "Action",
    "Adventure",
    "Comedy",
    "Drama",
    "Fantasy",
    "Mecha",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Slice of Life",
    "Sports",
    "Supernatural",
)

SUMMARY_TONES = (
    "A quiet",
    "A sharp",
    "A sprawling",
    "A tense",
    "A warm",
    "A darkly funny",
    "A haunting",
    "A brisk",
    "A tender",
    "An ambitious",
)

SUMMARY_HEROES = (
    "a retired detective",
    "a young cartographer",
    "two estranged sisters",
    "a night-shift nurse",
    "a disgraced chef",
    "a small-town mayor",
    "a runaway heir",
    "a lighthouse keeper",
    "a rookie pilot",
    "an ageing boxer",
    "a forgotten pop star",
    "a schoolteacher",
    "a ferry captain",
    "a grieving widower",
    "a street magician",
    "a team of archivists",
)

SUMMARY_PLOTS = (
    "uncovers a secret that could tear a family apart",
    "must return home after twenty years away",
    "is drawn into a heist that goes wrong from the first minute",
    "tries to keep a promise made long ago",
    "races against a storm to reach the coast",
    "finds a map that should not exist",
    "becomes the only witness to an impossible crime",
    "starts over in a town that wants to be left alone",
    "chases a rumour across three countries",
    "learns that the past never quite stays buried",
    "builds an unlikely friendship with a stranger",
    "fights to save a failing family business",
)

DECLINE_REASONS = (
    "Already on the server in better quality",
    "Not released in a watchable quality yet",
    "Not enough disk space right now",
    "Please request the first season first",
    "Duplicate of an existing request",
    "Not available from any of our sources",
    "Outside what this server collects",
)

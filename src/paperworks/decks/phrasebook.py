"""The offline planner's own words (agenda, closing, notes, the offline notice) in the languages
a deck may be written in, and which of them a request wants.

A deck is written in the language its request names (`language`: "de", "German", "Deutsch"),
else the language its prompt is written in, else English. Only the words around the prompt's
material are ours; the material stays as the user wrote it.
"""

# Each language is a table of phrases: a phrase per line reads better than one wrapped at 100
# columns; full-width punctuation is Chinese and Japanese punctuation, meant.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from dataclasses import dataclass

from paperworks.kit.languages import detect_language, language_code


@dataclass(frozen=True)
class Phrases:
    code: str
    agenda: str
    thanks: str  # the closing slide's title
    questions: str
    recap: str  # "{}": titles, joined
    decisions: str
    action_items: str
    summary: str  # a document's title when it has none
    overview: str  # a slide that would otherwise repeat the deck's title
    continued: str  # "{}": a title that spills onto a second slide
    sections: tuple[tuple[str, str], tuple[str, str, str]]  # names for 2 and 3 sections
    for_audience: str
    # Speaker notes.
    welcome: str  # "{}": the topic
    summarises: str  # "{}": a document's title
    start: str
    plan: str  # "{}": the agenda, as a sequence
    plan_alone: str
    questions_welcome: str
    section: str
    covers: str
    wrap_up: str
    looked_at: str
    take_questions: str
    openers: tuple[str, ...]  # "{}": what the slide is about
    point: str
    first: str
    next: str
    last: str
    here_are: str  # "{}": "decisions", "action items"
    columns: str
    picture: str
    also: str
    quote: str
    offline: str
    fewer: str  # "{made}", "{asked}": slide counts
    # Joining words: "a, b and c"; "first a, then b, and finally c".
    comma: str
    and_: str
    sequence: tuple[str, str, str, str]  # first {}, then {}, and then {} (of 2), and finally {}
    space: str  # between sentences
    example: str  # "{}": a slide's title, for a rewrite asked for an example
    fillers: tuple[str, ...]  # for a rewrite asked for more, when the slide says too little

    def join(self, items: list[str]) -> str:
        items = [item for item in items if item]
        if len(items) <= 1:
            return "".join(items)
        # "green tea and black tea and oolong": an "and" in the last item ends the list already.
        word = self.and_.strip()
        already = word in (items[-1].split() if self.space else items[-1])
        return self.comma.join(items[:-1]) + (self.comma if already else self.and_) + items[-1]

    def in_sequence(self, items: list[str]) -> str:
        """ "first a, then b, and finally c": an order to follow, not a list to parse."""
        if len(items) <= 1:
            return "".join(items)
        first, then, and_then, and_finally = self.sequence
        middle = "".join(then.format(item) for item in items[1:-1])
        last = (and_then if len(items) == 2 else and_finally).format(items[-1])
        return first.format(items[0]) + middle + last

    def unrepeated(self, title: str, deck_title: str) -> str:
        """`title`, or the overview where it would repeat the deck's title on a content slide."""
        overview = (
            self.overview if self.code == "de" else self.overview[:1].lower() + self.overview[1:]
        )
        if title.casefold() == deck_title.casefold():
            return overview
        if title.casefold() == self.continued.format(deck_title).casefold():
            return self.continued.format(overview)
        return title

    def sentences(self, *parts: str) -> str:
        return self.space.join(part for part in parts if part)


ENGLISH = Phrases(
    code="en",
    agenda="Agenda",
    thanks="Thank you",
    questions="Questions and discussion",
    recap="Recap: {}",
    decisions="Decisions",
    action_items="Action items",
    summary="Summary",
    overview="Overview",
    continued="{} (continued)",
    sections=(
        ("Background and context", "Details and next steps"),
        ("Background and context", "The core ideas", "Putting it into practice"),
    ),
    for_audience="For {}",
    welcome="Welcome, and thank you for being here. This presentation is about {}.",
    summarises="This presentation summarises {}.",
    start="Let's get started.",
    plan="Here is the plan: {}.",
    plan_alone="Here is the plan.",
    questions_welcome="Questions are welcome along the way, and there is time for them at the end.",
    section="This part is about {}.",
    covers="It covers {}.",
    wrap_up="To wrap up: thank you for your attention.",
    looked_at="We looked at {}.",
    take_questions="I'm happy to take your questions now.",
    openers=("This slide is about {}.", "Let's look at {}.", "Now to {}.", "Next up: {}."),
    point="The point to make: {}.",
    first="First, {}.",
    next="Next, {}.",
    last="Finally, {}.",
    here_are="Here are the {}.",
    columns="Read the two columns side by side.",
    picture="The picture gives the audience something to anchor these points to.",
    also="If time allows, also mention: {}.",
    quote="If you remember one thing from this presentation, let it be this: {}.",
    offline="This deck was planned offline, without a language model, from the prompt's own words: check it and add what you know.",
    fewer="The prompt had material for {made} of the {asked} slides asked for; add more points to the prompt for more slides.",
    comma=", ",
    and_=" and ",
    sequence=("first {}", ", then {}", ", and then {}", ", and finally {}"),
    space=" ",
    example="For example: how {} plays out in practice",
    fillers=("Why it matters", "A concrete example", "Key points to remember"),
)

GERMAN = Phrases(
    code="de",
    agenda="Agenda",
    thanks="Vielen Dank",
    questions="Fragen und Diskussion",
    recap="Rückblick: {}",
    decisions="Entscheidungen",
    action_items="Aufgaben",
    summary="Zusammenfassung",
    overview="Überblick",
    continued="{} (Fortsetzung)",
    sections=(
        ("Hintergrund", "Details und nächste Schritte"),
        ("Hintergrund", "Die wichtigsten Punkte", "Umsetzung in der Praxis"),
    ),
    for_audience="Für {}",
    welcome="Herzlich willkommen und danke, dass Sie da sind. In dieser Präsentation geht es um {}.",
    summarises="Diese Präsentation fasst {} zusammen.",
    start="Fangen wir an.",
    plan="Der Ablauf: {}.",
    plan_alone="Das ist der Ablauf.",
    questions_welcome="Fragen sind jederzeit willkommen, und am Ende ist Zeit für eine Diskussion.",
    section="In diesem Teil geht es um {}.",
    covers="Er umfasst {}.",
    wrap_up="Zum Schluss: vielen Dank für Ihre Aufmerksamkeit.",
    looked_at="Wir haben uns {} angesehen.",
    take_questions="Ich freue mich jetzt auf Ihre Fragen.",
    openers=(
        "Auf dieser Folie geht es um {}.",
        "Schauen wir uns {} an.",
        "Nun zu {}.",
        "Als Nächstes: {}.",
    ),
    point="Der Kernpunkt: {}.",
    first="Erstens: {}.",
    next="Außerdem: {}.",
    last="Und schließlich: {}.",
    here_are="Hier sind die {}.",
    columns="Die beiden Spalten stehen einander gegenüber.",
    picture="Das Bild gibt dem Publikum einen Anker für diese Punkte.",
    also="Wenn die Zeit reicht, auch erwähnen: {}.",
    quote="Wenn Sie sich eines aus dieser Präsentation merken, dann dies: {}.",
    offline="Diese Präsentation wurde offline, ohne Sprachmodell, aus den Worten der Anfrage erstellt: bitte prüfen und ergänzen.",
    fewer="Die Anfrage enthielt Stoff für {made} der {asked} gewünschten Folien; mehr Punkte in der Anfrage ergeben mehr Folien.",
    comma=", ",
    and_=" und ",
    sequence=("zuerst {}", ", dann {}", " und danach {}", " und zum Schluss {}"),
    space=" ",
    example="Ein Beispiel: {} in der Praxis",
    fillers=("Warum das wichtig ist", "Ein konkretes Beispiel", "Das Wichtigste in Kürze"),
)

FRENCH = Phrases(
    code="fr",
    agenda="Ordre du jour",
    thanks="Merci",
    questions="Questions et discussion",
    recap="Récapitulatif : {}",
    decisions="Décisions",
    action_items="Actions à mener",
    summary="Résumé",
    overview="Vue d'ensemble",
    continued="{} (suite)",
    sections=(
        ("Contexte", "Détails et prochaines étapes"),
        ("Contexte", "Les idées clés", "Mise en pratique"),
    ),
    for_audience="Pour {}",
    welcome="Bienvenue, et merci d'être là. Cette présentation porte sur {}.",
    summarises="Cette présentation résume {}.",
    start="Commençons.",
    plan="Voici le programme : {}.",
    plan_alone="Voici le programme.",
    questions_welcome="Les questions sont les bienvenues à tout moment, et nous aurons du temps à la fin.",
    section="Cette partie porte sur {}.",
    covers="Elle couvre {}.",
    wrap_up="Pour conclure : merci de votre attention.",
    looked_at="Nous avons vu {}.",
    take_questions="Je réponds volontiers à vos questions.",
    openers=("Cette diapositive porte sur {}.", "Voyons {}.", "Passons à {}.", "Ensuite : {}."),
    point="Le message à retenir : {}.",
    first="D'abord, {}.",
    next="Ensuite, {}.",
    last="Enfin, {}.",
    here_are="Voici les {}.",
    columns="Les deux colonnes se lisent côte à côte.",
    picture="L'image donne au public un repère pour ces points.",
    also="S'il reste du temps, mentionner aussi : {}.",
    quote="Si vous ne retenez qu'une chose de cette présentation, retenez ceci : {}.",
    offline="Cette présentation a été préparée hors ligne, sans modèle de langage, à partir des mots de la demande : vérifiez-la et complétez-la.",
    fewer="La demande contenait de quoi faire {made} des {asked} diapositives demandées ; ajoutez des points à la demande pour en obtenir plus.",
    comma=", ",
    and_=" et ",
    sequence=("d'abord {}", ", puis {}", ", et ensuite {}", ", et enfin {}"),
    space=" ",
    example="Par exemple : {} dans la pratique",
    fillers=("Pourquoi c'est important", "Un exemple concret", "Les points à retenir"),
)

SPANISH = Phrases(
    code="es",
    agenda="Agenda",
    thanks="Gracias",
    questions="Preguntas y debate",
    recap="Resumen: {}",
    decisions="Decisiones",
    action_items="Tareas pendientes",
    summary="Resumen",
    overview="Panorama general",
    continued="{} (continuación)",
    sections=(
        ("Contexto", "Detalles y próximos pasos"),
        ("Contexto", "Las ideas principales", "Cómo ponerlo en práctica"),
    ),
    for_audience="Para {}",
    welcome="Bienvenidos, y gracias por estar aquí. Esta presentación trata sobre {}.",
    summarises="Esta presentación resume {}.",
    start="Empecemos.",
    plan="Este es el plan: {}.",
    plan_alone="Este es el plan.",
    questions_welcome="Las preguntas son bienvenidas en cualquier momento, y al final habrá tiempo para ellas.",
    section="Esta parte trata sobre {}.",
    covers="Incluye {}.",
    wrap_up="Para terminar: gracias por su atención.",
    looked_at="Hemos visto {}.",
    take_questions="Ahora respondo con gusto a sus preguntas.",
    openers=(
        "Esta diapositiva trata sobre {}.",
        "Veamos {}.",
        "Pasemos a {}.",
        "A continuación: {}.",
    ),
    point="La idea clave: {}.",
    first="Primero, {}.",
    next="Además, {}.",
    last="Por último, {}.",
    here_are="Estas son las {}.",
    columns="Las dos columnas se leen una junto a la otra.",
    picture="La imagen da al público un punto de referencia para estas ideas.",
    also="Si hay tiempo, mencionar también: {}.",
    quote="Si recuerdan una sola cosa de esta presentación, que sea esta: {}.",
    offline="Esta presentación se preparó sin conexión, sin un modelo de lenguaje, con las palabras de la solicitud: revísela y complétela.",
    fewer="La solicitud daba material para {made} de las {asked} diapositivas pedidas; añada más puntos a la solicitud para obtener más.",
    comma=", ",
    and_=" y ",
    sequence=("primero {}", ", luego {}", " y después {}", " y por último {}"),
    space=" ",
    example="Por ejemplo: {} en la práctica",
    fillers=("Por qué es importante", "Un ejemplo concreto", "Los puntos clave"),
)

PORTUGUESE = Phrases(
    code="pt",
    agenda="Agenda",
    thanks="Obrigado",
    questions="Perguntas e discussão",
    recap="Resumo: {}",
    decisions="Decisões",
    action_items="Tarefas",
    summary="Resumo",
    overview="Visão geral",
    continued="{} (continuação)",
    sections=(
        ("Contexto", "Detalhes e próximos passos"),
        ("Contexto", "As ideias principais", "Como pôr em prática"),
    ),
    for_audience="Para {}",
    welcome="Sejam bem-vindos, e obrigado pela presença. Esta apresentação é sobre {}.",
    summarises="Esta apresentação resume {}.",
    start="Vamos começar.",
    plan="Este é o plano: {}.",
    plan_alone="Este é o plano.",
    questions_welcome="As perguntas são bem-vindas a qualquer momento, e haverá tempo para elas no final.",
    section="Esta parte é sobre {}.",
    covers="Ela inclui {}.",
    wrap_up="Para terminar: obrigado pela atenção.",
    looked_at="Vimos {}.",
    take_questions="Agora respondo com prazer às suas perguntas.",
    openers=("Este slide é sobre {}.", "Vejamos {}.", "Passemos a {}.", "A seguir: {}."),
    point="A ideia principal: {}.",
    first="Primeiro, {}.",
    next="Além disso, {}.",
    last="Por fim, {}.",
    here_are="Estas são as {}.",
    columns="As duas colunas se leem lado a lado.",
    picture="A imagem dá ao público uma referência para estes pontos.",
    also="Se houver tempo, mencione também: {}.",
    quote="Se vocês se lembrarem de uma só coisa desta apresentação, que seja esta: {}.",
    offline="Esta apresentação foi preparada offline, sem um modelo de linguagem, com as palavras do pedido: revise e complete.",
    fewer="O pedido tinha material para {made} dos {asked} slides pedidos; acrescente mais pontos ao pedido para obter mais.",
    comma=", ",
    and_=" e ",
    sequence=("primeiro {}", ", depois {}", " e em seguida {}", " e por fim {}"),
    space=" ",
    example="Por exemplo: {} na prática",
    fillers=("Por que é importante", "Um exemplo concreto", "Os pontos principais"),
)

ITALIAN = Phrases(
    code="it",
    agenda="Agenda",
    thanks="Grazie",
    questions="Domande e discussione",
    recap="Riepilogo: {}",
    decisions="Decisioni",
    action_items="Azioni da svolgere",
    summary="Sintesi",
    overview="Panoramica",
    continued="{} (continua)",
    sections=(
        ("Contesto", "Dettagli e prossimi passi"),
        ("Contesto", "Le idee principali", "Come metterlo in pratica"),
    ),
    for_audience="Per {}",
    welcome="Benvenuti, e grazie di essere qui. Questa presentazione parla di {}.",
    summarises="Questa presentazione riassume {}.",
    start="Cominciamo.",
    plan="Ecco il programma: {}.",
    plan_alone="Ecco il programma.",
    questions_welcome="Le domande sono benvenute in qualsiasi momento, e alla fine ci sarà tempo per discuterne.",
    section="Questa parte riguarda {}.",
    covers="Comprende {}.",
    wrap_up="Per concludere: grazie per l'attenzione.",
    looked_at="Abbiamo visto {}.",
    take_questions="Ora rispondo volentieri alle vostre domande.",
    openers=("Questa diapositiva riguarda {}.", "Vediamo {}.", "Passiamo a {}.", "Poi: {}."),
    point="Il punto chiave: {}.",
    first="Prima di tutto, {}.",
    next="Inoltre, {}.",
    last="Infine, {}.",
    here_are="Ecco le {}.",
    columns="Le due colonne si leggono una accanto all'altra.",
    picture="L'immagine offre al pubblico un riferimento per questi punti.",
    also="Se c'è tempo, citare anche: {}.",
    quote="Se ricordate una sola cosa di questa presentazione, che sia questa: {}.",
    offline="Questa presentazione è stata preparata offline, senza un modello linguistico, con le parole della richiesta: controllatela e completatela.",
    fewer="La richiesta conteneva materiale per {made} delle {asked} diapositive richieste; aggiungete altri punti alla richiesta per averne di più.",
    comma=", ",
    and_=" e ",
    sequence=("prima {}", ", poi {}", " e dopo {}", " e infine {}"),
    space=" ",
    example="Per esempio: {} nella pratica",
    fillers=("Perché è importante", "Un esempio concreto", "I punti chiave"),
)

CHINESE = Phrases(
    code="zh",
    agenda="议程",
    thanks="谢谢",
    questions="问题与讨论",
    recap="回顾：{}",
    decisions="决定",
    action_items="待办事项",
    summary="摘要",
    overview="概述",
    continued="{}（续）",
    sections=(("背景", "细节与下一步"), ("背景", "核心要点", "付诸实践")),
    for_audience="面向{}",
    welcome="欢迎各位，感谢大家的到来。本次演示的主题是{}。",
    summarises="本次演示概述{}。",
    start="我们开始吧。",
    plan="安排如下：{}。",
    plan_alone="安排如下。",
    questions_welcome="欢迎随时提问，最后也留有讨论时间。",
    section="这一部分讲{}。",
    covers="内容包括{}。",
    wrap_up="最后，感谢大家的聆听。",
    looked_at="我们讨论了{}。",
    take_questions="现在欢迎大家提问。",
    openers=("这一页讲{}。", "我们来看{}。", "接下来是{}。", "下面谈谈{}。"),
    point="要点：{}。",
    first="首先，{}。",
    next="其次，{}。",
    last="最后，{}。",
    here_are="以下是{}。",
    columns="请对照左右两栏来看。",
    picture="这张图片帮助听众记住这些要点。",
    also="如果时间允许，还可以提到：{}。",
    quote="如果只记住这次演示的一件事，那就是：{}。",
    offline="本演示文稿是在离线状态下、没有语言模型的情况下，根据请求中的文字生成的：请检查并补充。",
    fewer="请求中的内容足够生成所要求的{asked}页中的{made}页；在请求中加入更多要点可以生成更多页。",
    comma="、",
    and_="和",
    sequence=("先讲{}", "，然后是{}", "，再讲{}", "，最后是{}"),
    space="",
    example="举例：{}的实际情况",
    fillers=("为什么重要", "一个具体的例子", "要点回顾"),
)

JAPANESE = Phrases(
    code="ja",
    agenda="アジェンダ",
    thanks="ありがとうございました",
    questions="質問とディスカッション",
    recap="振り返り：{}",
    decisions="決定事項",
    action_items="アクションアイテム",
    summary="要約",
    overview="概要",
    continued="{}（続き）",
    sections=(("背景", "詳細と次のステップ"), ("背景", "主なポイント", "実践に向けて")),
    for_audience="{}向け",
    welcome="本日はお集まりいただきありがとうございます。このプレゼンテーションのテーマは{}です。",
    summarises="このプレゼンテーションでは{}を要約します。",
    start="それでは始めましょう。",
    plan="本日の流れ：{}。",
    plan_alone="本日の流れです。",
    questions_welcome="ご質問はいつでも歓迎します。最後にも質疑の時間があります。",
    section="このパートでは{}を扱います。",
    covers="内容は{}です。",
    wrap_up="最後に、ご清聴ありがとうございました。",
    looked_at="{}について見てきました。",
    take_questions="それでは、ご質問をお受けします。",
    openers=(
        "このスライドでは{}を取り上げます。",
        "{}を見てみましょう。",
        "次は{}です。",
        "続いて{}です。",
    ),
    point="ポイント：{}。",
    first="まず、{}。",
    next="次に、{}。",
    last="最後に、{}。",
    here_are="{}は次のとおりです。",
    columns="左右の列を見比べてください。",
    picture="この画像は、これらのポイントを印象づける手がかりになります。",
    also="時間があれば、次も紹介します：{}。",
    quote="このプレゼンテーションで一つだけ覚えておくなら、これです：{}。",
    offline="このプレゼンテーションは、言語モデルを使わずにオフラインで、依頼文の言葉から作成されました。内容を確認し、補ってください。",
    fewer="依頼文の内容から、依頼された{asked}枚のうち{made}枚を作成しました。要点を追加すると枚数が増えます。",
    comma="、",
    and_="と",
    sequence=("まず{}", "、次に{}", "、そして{}", "、最後に{}"),
    space="",
    example="例：{}の実際",
    fillers=("なぜ重要か", "具体的な例", "覚えておきたいポイント"),
)

PHRASEBOOK = {
    phrases.code: phrases
    for phrases in (ENGLISH, GERMAN, FRENCH, SPANISH, PORTUGUESE, ITALIAN, CHINESE, JAPANESE)
}


def phrases_for(language: str | None, text: str) -> Phrases:
    """The phrases for the language a request names, else for the language `text` is in,
    else English (a language without a phrasebook gets English, never a guess)."""
    code = language_code(language) if language else None
    if code is None:
        code = detect_language(text)
    return PHRASEBOOK.get(code or "en", ENGLISH)

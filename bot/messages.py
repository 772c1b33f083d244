"""Every text the bot writes, in English, Russian and German, and the choice of language.

The catalog is plain data, so a test can check that each key has every language with the same
{placeholders} (tests/bot/test_messages.py). Quotes from the documents are never translated;
only the words around them are.
"""

from __future__ import annotations

import asyncio
import logging
from html import escape
from typing import TYPE_CHECKING, Final

from telegram import Update

from retrieval.errors import BriefbotError, IngestError
from retrieval.state.database import DatabaseUnavailableError

if TYPE_CHECKING:  # bot.context imports bot.access, which imports this module
    from bot.context import BriefContext, Services

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE: Final = "en"
# The languages /language offers, each named in itself.
LANGUAGE_NAMES: Final = {"en": "English", "ru": "Русский", "de": "Deutsch"}

CATALOG: Final[dict[str, dict[str, str]]] = {
    # Commands, as Telegram lists them in the menu (setMyCommands per language).
    "cmd_ask": {
        "en": "Ask a question about the documents",
        "ru": "Задать вопрос по документам",
        "de": "Eine Frage zu den Dokumenten stellen",
    },
    "cmd_brief": {
        "en": "A cited briefing: /brief or /brief <topic>",
        "ru": "Сводка со ссылками: /brief или /brief <тема>",
        "de": "Ein Briefing mit Quellen: /brief oder /brief <Thema>",
    },
    "cmd_whatsnew": {
        "en": "What changed since the last briefing here",
        "ru": "Что изменилось с последней сводки здесь",
        "de": "Was sich seit dem letzten Briefing hier geändert hat",
    },
    "cmd_subscribe": {
        "en": "Scheduled briefings: /subscribe daily 08:00",
        "ru": "Сводки по расписанию: /subscribe daily 08:00",
        "de": "Geplante Briefings: /subscribe daily 08:00",
    },
    "cmd_sources": {
        "en": "The documents I answer from",
        "ru": "Документы, по которым я отвечаю",
        "de": "Die Dokumente, aus denen ich antworte",
    },
    "cmd_reset": {
        "en": "Forget our conversation",
        "ru": "Забыть наш разговор",
        "de": "Unser Gespräch vergessen",
    },
    "cmd_help": {
        "en": "How to ask",
        "ru": "Как задавать вопросы",
        "de": "So fragen Sie",
    },
    # Help and welcome.
    "help": {
        "en": (
            "<b>How to ask</b>\n"
            "Send me a question in this chat, or use /ask <i>question</i>. In a group, mention "
            "me, reply to one of my answers, or use /ask.\n\n"
            "Every answer cites its sources [n]; tap <i>Show quotes</i> to see the exact "
            "passages, and \U0001f44d/\U0001f44e to tell us whether it helped. When the "
            "documents don't say, I tell you instead of guessing.\n\n"
            "/brief [topic] \u2014 a cited briefing\n"
            "/whatsnew \u2014 what changed since the last briefing here\n"
            "/subscribe daily 08:00 [topic] \u2014 scheduled briefings (/subscriptions, "
            "/unsubscribe, /timezone)\n"
            "/sources \u2014 the documents I know\n"
            "/language \u2014 the language of my replies\n"
            "/reset \u2014 forget our conversation\n"
            "/help \u2014 this message"
        ),
        "ru": (
            "<b>Как задавать вопросы</b>\n"
            "Напишите мне вопрос в этом чате или используйте /ask <i>вопрос</i>. В группе "
            "упомяните меня, ответьте на один из моих ответов или используйте /ask.\n\n"
            "Каждый ответ ссылается на источники [n]; нажмите <i>Показать цитаты</i>, чтобы "
            "увидеть точные фрагменты, и \U0001f44d/\U0001f44e, чтобы сказать, помог ли ответ. "
            "Если в документах этого нет, я так и скажу, а не буду гадать.\n\n"
            "/brief [тема] \u2014 сводка со ссылками\n"
            "/whatsnew \u2014 что изменилось с последней сводки здесь\n"
            "/subscribe daily 08:00 [тема] \u2014 сводки по расписанию (/subscriptions, "
            "/unsubscribe, /timezone)\n"
            "/sources \u2014 документы, которые я знаю\n"
            "/language \u2014 язык моих ответов\n"
            "/reset \u2014 забыть наш разговор\n"
            "/help \u2014 это сообщение"
        ),
        "de": (
            "<b>So fragen Sie</b>\n"
            "Schicken Sie mir eine Frage in diesem Chat oder nutzen Sie /ask <i>Frage</i>. In "
            "einer Gruppe erwähnen Sie mich, antworten auf eine meiner Antworten oder nutzen "
            "/ask.\n\n"
            "Jede Antwort nennt ihre Quellen [n]; tippen Sie auf <i>Zitate zeigen</i>, um die "
            "genauen Stellen zu sehen, und auf \U0001f44d/\U0001f44e, um uns zu sagen, ob es "
            "geholfen hat. Wenn die Dokumente es nicht sagen, sage ich das, statt zu raten.\n\n"
            "/brief [Thema] \u2014 ein Briefing mit Quellen\n"
            "/whatsnew \u2014 was sich seit dem letzten Briefing hier geändert hat\n"
            "/subscribe daily 08:00 [Thema] \u2014 geplante Briefings (/subscriptions, "
            "/unsubscribe, /timezone)\n"
            "/sources \u2014 die Dokumente, die ich kenne\n"
            "/language \u2014 die Sprache meiner Antworten\n"
            "/reset \u2014 unser Gespräch vergessen\n"
            "/help \u2014 diese Nachricht"
        ),
    },
    "welcome_intro": {
        "en": "I answer questions about these documents and cite the passages I used:",
        "ru": "Я отвечаю на вопросы по этим документам и привожу фрагменты, на которые опираюсь:",
        "de": "Ich beantworte Fragen zu diesen Dokumenten und zitiere die Stellen, die ich nutze:",
    },
    "welcome_more": {
        "en": "\u2026 and {count} more (/sources)",
        "ru": "\u2026 и ещё {count} (/sources)",
        "de": "\u2026 und {count} weitere (/sources)",
    },
    "welcome_examples": {
        "en": "Ask me anything about them, for example:",
        "ru": "Спрашивайте о них что угодно, например:",
        "de": "Fragen Sie mich alles dazu, zum Beispiel:",
    },
    "welcome_groups": {
        "en": "In groups, mention me (@{username}), reply to my answer, or use /ask.",
        "ru": "В группах упомяните меня (@{username}), ответьте на мой ответ или "
        "используйте /ask.",
        "de": "In Gruppen erwähnen Sie mich (@{username}), antworten auf meine Antwort oder "
        "nutzen /ask.",
    },
    "non_text_hint": {
        "en": "I can only read text. Send me your question as a message.",
        "ru": "Я понимаю только текст. Пришлите вопрос сообщением.",
        "de": "Ich kann nur Text lesen. Schicken Sie mir Ihre Frage als Nachricht.",
    },
    "edited_hint": {
        "en": "I answer new messages only; please send the corrected question again.",
        "ru": "Я отвечаю только на новые сообщения; пришлите исправленный вопрос ещё раз.",
        "de": "Ich antworte nur auf neue Nachrichten; bitte senden Sie die korrigierte Frage "
        "erneut.",
    },
    # Declines and errors.
    "not_allowed": {
        "en": "Sorry, this bot is private: its operator has not allowed your account.",
        "ru": "Извините, это закрытый бот: его владелец не разрешил доступ вашему аккаунту.",
        "de": "Leider ist dieser Bot privat: Sein Betreiber hat Ihr Konto nicht freigegeben.",
    },
    "group_not_allowed": {
        "en": (
            "Sorry, this bot only works in the groups its operator allows, so I am leaving. "
            "(To allow this group, add {chat_id} to BRIEFBOT_ALLOWED_CHAT_IDS.)"
        ),
        "ru": (
            "Извините, этот бот работает только в разрешённых владельцем группах, поэтому я "
            "ухожу. (Чтобы разрешить эту группу, добавьте {chat_id} в BRIEFBOT_ALLOWED_CHAT_IDS.)"
        ),
        "de": (
            "Leider arbeitet dieser Bot nur in Gruppen, die sein Betreiber erlaubt, daher gehe "
            "ich. (Um diese Gruppe zu erlauben, {chat_id} zu BRIEFBOT_ALLOWED_CHAT_IDS "
            "hinzufügen.)"
        ),
    },
    "queue_full": {
        "en": (
            "I still have several of your messages to answer, so I skipped the newest ones. "
            "Please wait for my replies, then ask again."
        ),
        "ru": (
            "Мне ещё нужно ответить на несколько ваших сообщений, поэтому самые новые я "
            "пропустил. Дождитесь ответов и спросите снова."
        ),
        "de": (
            "Ich muss noch mehrere Ihrer Nachrichten beantworten und habe die neuesten "
            "übersprungen. Bitte warten Sie auf meine Antworten und fragen Sie dann erneut."
        ),
    },
    "slow_down": {
        "en": "You are asking faster than I can answer well. Please try again in {seconds} s.",
        "ru": "Вы спрашиваете быстрее, чем я успеваю хорошо отвечать. Попробуйте через "
        "{seconds} с.",
        "de": "Sie fragen schneller, als ich gut antworten kann. Bitte in {seconds} s erneut "
        "versuchen.",
    },
    "generic_failure": {
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
        "ru": "Извините, у меня что-то пошло не так. Попробуйте ещё раз чуть позже.",
        "de": "Entschuldigung, bei mir ist etwas schiefgelaufen. Bitte gleich noch einmal "
        "versuchen.",
    },
    "for_admins": {
        "en": "For admins: {reason}",
        "ru": "Для администраторов: {reason}",
        "de": "Für Admins: {reason}",
    },
    "no_index": {
        "en": "I have no documents to answer from yet. Please ask an admin to load them.",
        "ru": "У меня пока нет документов для ответов. Попросите администратора их загрузить.",
        "de": "Ich habe noch keine Dokumente zum Antworten. Bitte einen Admin, sie zu laden.",
    },
    "reset_done": {
        "en": "Done: I have forgotten our conversation.",
        "ru": "Готово: я забыл наш разговор.",
        "de": "Erledigt: Ich habe unser Gespräch vergessen.",
    },
    # Answers and their buttons.
    "not_covered": {
        "en": "The documents don't cover this.",
        "ru": "В документах об этом ничего нет.",
        "de": "Die Dokumente behandeln das nicht.",
    },
    "not_exactly": {
        "en": "The documents don't say this exactly. The closest passage:",
        "ru": "В документах этого нет дословно. Ближайший фрагмент:",
        "de": "Die Dokumente sagen das nicht genau so. Die nächstliegende Stelle:",
    },
    "read_as": {
        "en": "I searched for \u201c{read}\u201d (you wrote \u201c{typed}\u201d).",
        "ru": "Я искал \u00ab{read}\u00bb (вы написали \u00ab{typed}\u00bb).",
        "de": "Ich habe nach \u201e{read}\u201c gesucht (Sie schrieben \u201e{typed}\u201c).",
    },
    "closest_documents": {
        "en": "Closest documents, if you want to rephrase:",
        "ru": "Ближайшие документы, если хотите переформулировать:",
        "de": "Die nächstliegenden Dokumente, falls Sie umformulieren möchten:",
    },
    "overview_hint": {
        "en": "For a cited overview of the documents: /brief",
        "ru": "Обзор документов со ссылками: /brief",
        "de": "Ein Überblick über die Dokumente mit Quellen: /brief",
    },
    "sources_heading": {"en": "Sources", "ru": "Источники", "de": "Quellen"},
    "show_quotes": {"en": "Show quotes", "ru": "Показать цитаты", "de": "Zitate zeigen"},
    "hide_quotes": {"en": "Hide quotes", "ru": "Скрыть цитаты", "de": "Zitate ausblenden"},
    "vote_thanks": {
        "en": "Thanks for the feedback!",
        "ru": "Спасибо за отзыв!",
        "de": "Danke für das Feedback!",
    },
    "answer_gone": {
        "en": "This answer is no longer available.",
        "ru": "Этот ответ больше недоступен.",
        "de": "Diese Antwort ist nicht mehr verfügbar.",
    },
    "answer_gone_ask_again": {
        "en": "This answer is no longer available. Please ask again.",
        "ru": "Этот ответ больше недоступен. Спросите ещё раз.",
        "de": "Diese Antwort ist nicht mehr verfügbar. Bitte fragen Sie erneut.",
    },
    "stale_button": {
        "en": "This button no longer works. Please ask again.",
        "ru": "Эта кнопка больше не работает. Спросите ещё раз.",
        "de": "Diese Schaltfläche funktioniert nicht mehr. Bitte fragen Sie erneut.",
    },
    # /sources.
    "sources_listing": {
        "en": "<b>{count} documents</b> (index v{version}, built {built})",
        "ru": "<b>Документов: {count}</b> (индекс v{version}, собран {built})",
        "de": "<b>{count} Dokumente</b> (Index v{version}, erstellt {built})",
    },
    "date_not_stated": {"en": "date not stated", "ru": "дата не указана", "de": "ohne Datum"},
    "passages": {
        "en": "{count} passages",
        "ru": "фрагментов: {count}",
        "de": "{count} Abschnitte",
    },
    # Briefings.
    "briefing_heading": {
        "en": "<b>Briefing: {subject}</b> (index v{version})",
        "ru": "<b>Сводка: {subject}</b> (индекс v{version})",
        "de": "<b>Briefing: {subject}</b> (Index v{version})",
    },
    "all_documents": {"en": "all documents", "ru": "все документы", "de": "alle Dokumente"},
    "bottom_line": {"en": "Bottom line", "ru": "Главное", "de": "Fazit"},
    "key_points": {"en": "Key points", "ru": "Ключевые пункты", "de": "Kernpunkte"},
    "positions": {"en": "Positions", "ru": "Позиции", "de": "Positionen"},
    "unclear": {
        "en": "Unclear or disputed",
        "ru": "Неясно или спорно",
        "de": "Unklar oder umstritten",
    },
    "nothing_new": {
        "en": "Nothing new in the documents since the last briefing ({when} UTC).",
        "ru": "В документах ничего нового с последней сводки ({when} UTC).",
        "de": "Nichts Neues in den Dokumenten seit dem letzten Briefing ({when} UTC).",
    },
    "new_since_last": {
        "en": "<b>New or updated since the last briefing:</b>",
        "ru": "<b>Новое или изменённое с последней сводки:</b>",
        "de": "<b>Neu oder geändert seit dem letzten Briefing:</b>",
    },
    # Subscriptions and time zones.
    "subscribe_help": {
        "en": (
            "Use /subscribe daily 08:00 [topic], /subscribe weekly mon 08:00 [topic], or "
            "/subscribe changes (a short post after every reload). Add \u201cquiet\u201d to stay "
            "silent when nothing is new. Times are in the chat's time zone "
            "(/timezone Europe/Berlin)."
        ),
        "ru": (
            "Используйте /subscribe daily 08:00 [тема], /subscribe weekly mon 08:00 [тема] или "
            "/subscribe changes (короткое сообщение после каждой перезагрузки). Добавьте "
            "\u201cquiet\u201d, чтобы молчать, когда нового нет. Время указывается в часовом "
            "поясе чата (/timezone Europe/Berlin)."
        ),
        "de": (
            "Nutzen Sie /subscribe daily 08:00 [Thema], /subscribe weekly mon 08:00 [Thema] "
            "oder /subscribe changes (ein kurzer Beitrag nach jedem Neuladen). Mit "
            "\u201cquiet\u201d bleibe ich still, wenn es nichts Neues gibt. Zeiten gelten in "
            "der Zeitzone des Chats (/timezone Europe/Berlin)."
        ),
    },
    "only_admins_subscribe": {
        "en": "Only this group's admins can subscribe it to briefings.",
        "ru": "Подписать группу на сводки могут только её администраторы.",
        "de": "Nur die Admins dieser Gruppe können sie für Briefings anmelden.",
    },
    "only_admins_unsubscribe": {
        "en": "Only this group's admins can change its subscriptions.",
        "ru": "Менять подписки группы могут только её администраторы.",
        "de": "Nur die Admins dieser Gruppe können ihre Abonnements ändern.",
    },
    "only_admins_timezone": {
        "en": "Only this group's admins can change its time zone.",
        "ru": "Менять часовой пояс группы могут только её администраторы.",
        "de": "Nur die Admins dieser Gruppe können ihre Zeitzone ändern.",
    },
    "only_admins_language": {
        "en": "Only this group's admins can change its language.",
        "ru": "Менять язык группы могут только её администраторы.",
        "de": "Nur die Admins dieser Gruppe können ihre Sprache ändern.",
    },
    "not_a_time": {
        "en": "That is not a time of day; use HH:MM, e.g. 08:00.",
        "ru": "Это не время суток; используйте ЧЧ:ММ, например 08:00.",
        "de": "Das ist keine Uhrzeit; nutzen Sie HH:MM, z. B. 08:00.",
    },
    "topic_too_long": {
        "en": "Please keep the topic under {limit} characters.",
        "ru": "Пожалуйста, уложите тему в {limit} символов.",
        "de": "Bitte halten Sie das Thema unter {limit} Zeichen.",
    },
    "subscribed": {
        "en": "Subscribed {what} ({zone}).",
        "ru": "Подписка оформлена: {what} ({zone}).",
        "de": "Abonniert: {what} ({zone}).",
    },
    "unsubscribe_usage": {
        "en": "Use /unsubscribe <number> (see /subscriptions) or /unsubscribe all.",
        "ru": "Используйте /unsubscribe <номер> (см. /subscriptions) или /unsubscribe all.",
        "de": "Nutzen Sie /unsubscribe <Nummer> (siehe /subscriptions) oder /unsubscribe all.",
    },
    "unsubscribed": {
        "en": "Unsubscribed {numbers}.",
        "ru": "Подписка отменена: {numbers}.",
        "de": "Abbestellt: {numbers}.",
    },
    "no_such_subscription": {
        "en": "No such subscription.",
        "ru": "Такой подписки нет.",
        "de": "Dieses Abonnement gibt es nicht.",
    },
    "subscriptions_heading": {
        "en": "Briefings for this chat ({zone}):",
        "ru": "Сводки для этого чата ({zone}):",
        "de": "Briefings für diesen Chat ({zone}):",
    },
    "no_subscriptions": {"en": "None.", "ru": "Нет.", "de": "Keine."},
    "timezone_is": {
        "en": "This chat's time zone is {zone}.",
        "ru": "Часовой пояс этого чата: {zone}.",
        "de": "Die Zeitzone dieses Chats ist {zone}.",
    },
    "unknown_timezone": {
        "en": "I don't know the time zone {name}; try e.g. Europe/Berlin.",
        "ru": "Я не знаю часовой пояс {name}; попробуйте, например, Europe/Berlin.",
        "de": "Die Zeitzone {name} kenne ich nicht; versuchen Sie z. B. Europe/Berlin.",
    },
    "timezone_set": {
        "en": "Time zone set to {name}.",
        "ru": "Часовой пояс: {name}.",
        "de": "Zeitzone auf {name} gesetzt.",
    },
    # Document management (admins only).
    "not_admin": {
        "en": "Sorry, only the bot's admins can manage documents.",
        "ru": "Извините, управлять документами могут только администраторы бота.",
        "de": "Leider können nur die Admins des Bots Dokumente verwalten.",
    },
    "not_admin_none_configured": {
        "en": (
            "Sorry, only the bot's admins can manage documents. "
            "(No admins are configured: BRIEFBOT_ADMIN_IDS.)"
        ),
        "ru": (
            "Извините, управлять документами могут только администраторы бота. "
            "(Администраторы не настроены: BRIEFBOT_ADMIN_IDS.)"
        ),
        "de": (
            "Leider können nur die Admins des Bots Dokumente verwalten. "
            "(Es sind keine Admins eingerichtet: BRIEFBOT_ADMIN_IDS.)"
        ),
    },
    "reloading": {
        "en": "Reloading the documents\u2026",
        "ru": "Перезагружаю документы\u2026",
        "de": "Lade die Dokumente neu\u2026",
    },
    # bot/progress.py: the reloading message, edited with the stage reached
    "reload_progress_reading": {
        "en": "Reloading: {done} of {total} files read\u2026",
        "ru": "Перезагрузка: прочитано файлов: {done} из {total}\u2026",
        "de": "Neu laden: {done} von {total} Dateien gelesen\u2026",
    },
    "reload_progress_embedding": {
        "en": "Reloading: {done} of {total} new texts embedded\u2026",
        "ru": "Перезагрузка: обработано новых текстов: {done} из {total}\u2026",
        "de": "Neu laden: {done} von {total} neuen Texten eingebettet\u2026",
    },
    "reload_progress_writing": {
        "en": "Reloading: writing the new index version\u2026",
        "ru": "Перезагрузка: записываю новую версию индекса\u2026",
        "de": "Neu laden: schreibe die neue Indexversion\u2026",
    },
    # QuestionError, by its reason
    "question_empty": {
        "en": "Please ask a question: the message was empty.",
        "ru": "Задайте, пожалуйста, вопрос: сообщение было пустым.",
        "de": "Bitte stellen Sie eine Frage: die Nachricht war leer.",
    },
    "question_no_words": {
        "en": "Please ask a question in words: the message has no letters or digits.",
        "ru": "Задайте, пожалуйста, вопрос словами: в сообщении нет ни букв, ни цифр.",
        "de": (
            "Bitte stellen Sie Ihre Frage in Worten: die Nachricht enthält weder Buchstaben "
            "noch Ziffern."
        ),
    },
    "question_too_long": {
        "en": "That question is {length:,} characters long; please keep it under {limit:,}.",
        "ru": "В вопросе {length:,} символов; пожалуйста, уложитесь в {limit:,}.",
        "de": "Die Frage ist {length:,} Zeichen lang; bitte bleiben Sie unter {limit:,}.",
    },
    "reload_unchanged": {
        "en": "Nothing changed: index v{version}, {documents} documents.",
        "ru": "Ничего не изменилось: индекс v{version}, документов: {documents}.",
        "de": "Nichts geändert: Index v{version}, {documents} Dokumente.",
    },
    "reload_report": {
        "en": (
            "<b>Reloaded: index v{version}</b> in {seconds} s\n"
            "Documents: {added} added, {updated} updated, {removed} removed ({documents} in all)\n"
            "Passages: {chunks_added} added, {chunks_removed} removed ({chunks} in all)"
        ),
        "ru": (
            "<b>Перезагружено: индекс v{version}</b> за {seconds} с\n"
            "Документы: добавлено {added}, обновлено {updated}, удалено {removed} "
            "(всего {documents})\n"
            "Фрагменты: добавлено {chunks_added}, удалено {chunks_removed} (всего {chunks})"
        ),
        "de": (
            "<b>Neu geladen: Index v{version}</b> in {seconds} s\n"
            "Dokumente: {added} hinzugefügt, {updated} aktualisiert, {removed} entfernt "
            "({documents} insgesamt)\n"
            "Abschnitte: {chunks_added} hinzugefügt, {chunks_removed} entfernt "
            "({chunks} insgesamt)"
        ),
    },
    "reload_failed": {
        "en": "Reload failed; the documents in use are unchanged.\n{reason}",
        "ru": "Перезагрузка не удалась; используемые документы не изменились.\n{reason}",
        "de": "Neuladen fehlgeschlagen; die genutzten Dokumente sind unverändert.\n{reason}",
    },
    "rollback_failed": {
        "en": "Rollback failed: {reason}",
        "ru": "Откат не удался: {reason}",
        "de": "Zurücksetzen fehlgeschlagen: {reason}",
    },
    "rolled_back": {
        "en": (
            "Rolled back: serving index v{version} ({documents} documents, built {built}) "
            "until the next /reload."
        ),
        "ru": (
            "Откат выполнен: до следующего /reload работает индекс v{version} "
            "(документов: {documents}, собран {built})."
        ),
        "de": (
            "Zurückgesetzt: Index v{version} ({documents} Dokumente, erstellt {built}) gilt "
            "bis zum nächsten /reload."
        ),
    },
    "docs_heading": {
        "en": "<b>Index v{version}</b>, {documents} documents",
        "ru": "<b>Индекс v{version}</b>, документов: {documents}",
        "de": "<b>Index v{version}</b>, {documents} Dokumente",
    },
    "doc_no_date": {"en": "no date", "ru": "без даты", "de": "ohne Datum"},
    "doc_added": {"en": "added {when}", "ru": "добавлен {when}", "de": "hinzugefügt {when}"},
    "doc_before_tracking": {
        "en": "before tracking",
        "ru": "до начала учёта",
        "de": "vor der Erfassung",
    },
    "remove_which": {
        "en": "Which document? Use /remove <file name>. {hint}",
        "ru": "Какой документ? Используйте /remove <имя файла>. {hint}",
        "de": "Welches Dokument? Nutzen Sie /remove <Dateiname>. {hint}",
    },
    "remove_several": {
        "en": "Several match: {names}.",
        "ru": "Подходят несколько: {names}.",
        "de": "Mehrere passen: {names}.",
    },
    "remove_none": {
        "en": "None matches; see /docs.",
        "ru": "Ничего не подходит; см. /docs.",
        "de": "Keines passt; siehe /docs.",
    },
    "remove_confirm": {
        "en": "Remove {document}?",
        "ru": "Удалить {document}?",
        "de": "{document} entfernen?",
    },
    "remove_button": {"en": "Remove", "ru": "Удалить", "de": "Entfernen"},
    "cancel_button": {"en": "Cancel", "ru": "Отмена", "de": "Abbrechen"},
    "nothing_removed": {
        "en": "Nothing was removed.",
        "ru": "Ничего не удалено.",
        "de": "Es wurde nichts entfernt.",
    },
    "remove_invalid": {
        "en": "That button is not valid; nothing was removed.",
        "ru": "Эта кнопка недействительна; ничего не удалено.",
        "de": "Diese Schaltfläche ist ungültig; es wurde nichts entfernt.",
    },
    "documents_changed": {
        "en": "The documents changed since; please use /remove again.",
        "ru": "Документы с тех пор изменились; используйте /remove ещё раз.",
        "de": "Die Dokumente haben sich seitdem geändert; bitte /remove erneut nutzen.",
    },
    "change_running": {
        "en": "Another document change is running; try again shortly.",
        "ru": "Идёт другое изменение документов; попробуйте чуть позже.",
        "de": "Eine andere Dokumentänderung läuft; bitte gleich erneut versuchen.",
    },
    "removing": {
        "en": "Removing {title}\u2026",
        "ru": "Удаляю {title}\u2026",
        "de": "Entferne {title}\u2026",
    },
    "upload_in_private": {
        "en": "To add a document, send it to me in a private chat: {url}",
        "ru": "Чтобы добавить документ, пришлите его мне в личный чат: {url}",
        "de": "Um ein Dokument hinzuzufügen, schicken Sie es mir im privaten Chat: {url}",
    },
    "document_exists": {
        "en": (
            "A document named {name} already exists. Send the file again with the caption "
            "\u201creplace\u201d to replace it."
        ),
        "ru": (
            "Документ {name} уже есть. Чтобы заменить его, пришлите файл ещё раз с подписью "
            "\u201creplace\u201d."
        ),
        "de": (
            "Ein Dokument namens {name} gibt es schon. Senden Sie die Datei erneut mit der "
            "Bildunterschrift \u201creplace\u201d, um es zu ersetzen."
        ),
    },
    "upload_added": {
        "en": "<b>{title}</b> is in ({doc_id}).",
        "ru": "<b>{title}</b> добавлен ({doc_id}).",
        "de": "<b>{title}</b> ist aufgenommen ({doc_id}).",
    },
    "upload_sections": {
        "en": "Sections: {sections}. Passages: {count}.",
        "ru": "Разделы: {sections}. Фрагментов: {count}.",
        "de": "Abschnitte: {sections}. Passagen: {count}.",
    },
    "sections_none": {"en": "none found", "ru": "не найдены", "de": "keine gefunden"},
    "upload_example": {
        "en": "You can now ask, for example: <i>{example}</i>",
        "ru": "Теперь можно спросить, например: <i>{example}</i>",
        "de": "Sie können jetzt z. B. fragen: <i>{example}</i>",
    },
    "upload_rejected": {
        # The reason is error_text of the DocumentError ("is larger than ..." in English).
        "en": "I did not add {name}: it {reason}. Nothing was changed.",
        "ru": "Я не добавил {name} (причина: {reason}). Ничего не изменено.",
        "de": "Ich habe {name} nicht hinzugefügt (Grund: {reason}). Nichts wurde geändert.",
    },
    # /language.
    "language_current": {
        "en": "I reply in {language} here. Choose with /language {choices}.",
        "ru": "Здесь я отвечаю на языке: {language}. Выбор: /language {choices}.",
        "de": "Ich antworte hier auf {language}. Auswahl: /language {choices}.",
    },
    "language_auto": {
        "en": "{language} (each person's Telegram language)",
        "ru": "{language} (язык Telegram каждого собеседника)",
        "de": "{language} (die Telegram-Sprache jeder Person)",
    },
    "language_set": {
        "en": "I will reply in English in this chat.",
        "ru": "В этом чате я буду отвечать по-русски.",
        "de": "In diesem Chat antworte ich auf Deutsch.",
    },
    "language_cleared": {
        "en": "I will reply in each person's Telegram language again.",
        "ru": "Я снова буду отвечать на языке Telegram каждого собеседника.",
        "de": "Ich antworte wieder in der Telegram-Sprache jeder Person.",
    },
    "sub_daily": {"en": "daily at {time}", "ru": "ежедневно в {time}", "de": "täglich um {time}"},
    "sub_weekly": {
        "en": "weekly on {day} at {time}",
        "ru": "еженедельно, {day}, в {time}",
        "de": "wöchentlich am {day} um {time}",
    },
    "sub_changes": {
        "en": "after every reload",
        "ru": "после каждой перезагрузки",
        "de": "nach jedem Neuladen",
    },
    "sub_topic": {
        "en": " on \u201c{topic}\u201d",
        "ru": " на тему \u00ab{topic}\u00bb",
        "de": " zum Thema \u201e{topic}\u201c",
    },
    "sub_quiet": {
        "en": " (quiet when nothing is new)",
        "ru": " (молча, если нового нет)",
        "de": " (still, wenn nichts neu ist)",
    },
    # Weekdays as /subscriptions shows them, day_<the word /subscribe takes>.
    "day_mon": {"en": "Mon", "ru": "пн", "de": "Mo"},
    "day_tue": {"en": "Tue", "ru": "вт", "de": "Di"},
    "day_wed": {"en": "Wed", "ru": "ср", "de": "Mi"},
    "day_thu": {"en": "Thu", "ru": "чт", "de": "Do"},
    "day_fri": {"en": "Fri", "ru": "пт", "de": "Fr"},
    "day_sat": {"en": "Sat", "ru": "сб", "de": "Sa"},
    "day_sun": {"en": "Sun", "ru": "вс", "de": "So"},
    "language_unknown": {
        "en": "I don't speak {code}. Choose with /language {choices}.",
        "ru": "Я не говорю на {code}. Выбор: /language {choices}.",
        "de": "{code} spreche ich nicht. Auswahl: /language {choices}.",
    },
    # A BriefbotError by its reason code (bot.messages.error_text); English as the error's.
    # A DocumentError reads after the file name in English ("report.pdf is empty"); the other
    # languages say it as a clause of its own.
    "error_binary": {
        "en": "is a binary file, not text",
        "ru": "это двоичный файл, а не текст",
        "de": "die Datei ist eine Binärdatei, kein Text",
    },
    "error_docx_not_plain": {
        "en": "cannot be read as DOCX (it is damaged, or not a plain Word document)",
        "ru": "файл не читается как DOCX (он повреждён или это не обычный документ Word)",
        "de": "die Datei lässt sich nicht als DOCX lesen (sie ist beschädigt oder kein "
        "gewöhnliches Word-Dokument)",
    },
    "error_empty": {"en": "is empty", "ru": "файл пуст", "de": "die Datei ist leer"},
    "error_mismatch": {
        "en": "is not {expected} ({found})",
        "ru": "это не {expected} ({found})",
        "de": "die Datei sollte {expected} sein ({found})",
    },
    "error_mismatch_old_office": {
        "en": "is not {expected} ({found}); save it as .docx",
        "ru": "это не {expected} ({found}); сохраните файл в формате .docx",
        "de": "die Datei sollte {expected} sein ({found}); speichern Sie sie als .docx",
    },
    "error_mismatch_rename": {
        "en": "is not {expected} ({found}); rename it to end in {suffix}",
        "ru": "это не {expected} ({found}); переименуйте файл, чтобы имя оканчивалось на {suffix}",
        "de": "die Datei sollte {expected} sein ({found}); benennen Sie sie so um, dass der Name "
        "auf {suffix} endet",
    },
    "error_no_body_text": {
        "en": "has headings but no body text",
        "ru": "в файле есть заголовки, но нет текста под ними",
        "de": "die Datei hat Überschriften, aber keinen Fließtext",
    },
    "error_no_extension": {
        "en": "has no file extension; upload {kinds} or {last}",
        "ru": "у файла нет расширения; загрузите {kinds} или {last}",
        "de": "die Datei hat keine Endung; laden Sie {kinds} oder {last} hoch",
    },
    "error_no_text": {
        "en": "has no text",
        "ru": "в файле нет текста",
        "de": "die Datei enthält keinen Text",
    },
    "error_not_utf8": {
        "en": "is not UTF-8 text (byte 0x{byte:02x} at offset {offset})",
        "ru": "это не текст в UTF-8 (байт 0x{byte:02x} по смещению {offset})",
        "de": "die Datei ist kein UTF-8-Text (Byte 0x{byte:02x} an Position {offset})",
    },
    "error_pdf_encrypted": {
        "en": "is encrypted in a way this bot cannot open; upload a copy without encryption",
        "ru": "файл зашифрован так, что бот не может его открыть; загрузите копию без шифрования",
        "de": "die Datei ist so verschlüsselt, dass dieser Bot sie nicht öffnen kann; laden Sie "
        "eine unverschlüsselte Kopie hoch",
    },
    "error_pdf_locked": {
        "en": "is protected by a password; upload a copy that opens without one",
        "ru": "файл защищён паролем; загрузите копию, которая открывается без пароля",
        "de": "die Datei ist durch ein Passwort geschützt; laden Sie eine Kopie hoch, die sich "
        "ohne Passwort öffnen lässt",
    },
    "error_pdf_no_pages": {
        "en": "cannot be read as PDF (it has no pages)",
        "ru": "файл не читается как PDF (в нём нет страниц)",
        "de": "die Datei lässt sich nicht als PDF lesen (sie hat keine Seiten)",
    },
    "error_pdf_no_text_layer": {
        "en": "has no text layer (a scanned PDF?); upload a PDF with selectable text",
        "ru": "в файле нет текстового слоя (отсканированный PDF?); загрузите PDF, "
        "в котором текст можно выделить",
        "de": "die Datei hat keine Textebene (ein gescanntes PDF?); laden Sie ein PDF mit "
        "markierbarem Text hoch",
    },
    "error_pdf_unsupported_feature": {
        "en": "uses a feature this bot cannot decode; save it again as a standard PDF",
        "ru": "в файле есть возможность, которую бот не умеет декодировать; сохраните его заново "
        "как стандартный PDF",
        "de": "die Datei nutzt eine Funktion, die dieser Bot nicht dekodieren kann; speichern Sie "
        "sie erneut als Standard-PDF",
    },
    "error_read_failed": {
        "en": "cannot be read ({detail})",
        "ru": "файл не читается ({detail})",
        "de": "die Datei lässt sich nicht lesen ({detail})",
    },
    "error_reader_failed": {
        "en": "could not be read (the reader ran out of memory or failed); try saving it again, "
        "or as another format",
        "ru": "файл не удалось прочитать (программе чтения не хватило памяти, или она дала "
        "сбой); попробуйте сохранить его заново или в другом формате",
        "de": "die Datei konnte nicht gelesen werden (dem Leseprogramm ging der Speicher aus, "
        "oder es schlug fehl); speichern Sie sie erneut oder in einem anderen Format",
    },
    "error_shutting_down": {
        "en": "was not read because the bot is shutting down; send it again in a minute",
        "ru": "файл не прочитан, потому что бот завершает работу; отправьте его снова "
        "через минуту",
        "de": "die Datei wurde nicht gelesen, weil der Bot gerade beendet wird; senden Sie sie "
        "in einer Minute erneut",
    },
    "error_text_too_large": {
        "en": "is too large once extracted (over {limit:,} bytes of text)",
        "ru": "извлечённый из файла текст слишком велик (больше {limit:,} байт)",
        "de": "der ausgelesene Text der Datei ist zu groß (über {limit:,} Byte)",
    },
    "error_too_big": {
        "en": "is over the size limit of {max_bytes:,} bytes",
        "ru": "файл превышает допустимый размер в {max_bytes:,} байт",
        "de": "die Datei überschreitet die Größengrenze von {max_bytes:,} Byte",
    },
    "error_too_big_to_upload": {
        "en": "is larger than {max_bytes:,} bytes",
        "ru": "файл больше {max_bytes:,} байт",
        "de": "die Datei ist größer als {max_bytes:,} Byte",
    },
    "error_too_slow": {
        "en": "took too long to read (more than {seconds:g} s)",
        "ru": "чтение файла заняло слишком много времени (больше {seconds:g} с)",
        "de": "das Lesen der Datei dauerte zu lange (mehr als {seconds:g} s)",
    },
    "error_unpacked_too_large": {
        "en": "is too large once unpacked ({unpacked:,} bytes)",
        "ru": "в распакованном виде файл слишком велик ({unpacked:,} байт)",
        "de": "die Datei ist entpackt zu groß ({unpacked:,} Byte)",
    },
    "error_unpacked_too_large_for_memory": {
        "en": "is too large once unpacked (reading it needs over {megabytes:,} MB of memory)",
        "ru": "в распакованном виде файл слишком велик (для чтения нужно больше {megabytes:,} МБ "
        "памяти)",
        "de": "die Datei ist entpackt zu groß (zum Lesen braucht es über {megabytes:,} MB "
        "Speicher)",
    },
    "error_unreadable": {
        "en": "cannot be read as {kind} (the file is damaged or incomplete)",
        "ru": "файл не читается как {kind} (он повреждён или неполон)",
        "de": "die Datei lässt sich nicht als {kind} lesen (sie ist beschädigt oder "
        "unvollständig)",
    },
    "error_unreadable_detail": {
        # The detail is the reading library's own message, in English.
        "en": "cannot be read as {kind} (the file is damaged: {detail})",
        "ru": "файл не читается как {kind} (он повреждён: {detail})",
        "de": "die Datei lässt sich nicht als {kind} lesen (sie ist beschädigt: {detail})",
    },
    "error_unsupported_type": {
        "en": "has an unsupported file type ({suffix}); upload {kinds} or {last}",
        "ru": "такой тип файла не поддерживается ({suffix}); загрузите {kinds} или {last}",
        "de": "der Dateityp wird nicht unterstützt ({suffix}); laden Sie {kinds} oder {last} hoch",
    },
    "error_utf16": {
        "en": "is UTF-16 text; save it as UTF-8",
        "ru": "это текст в UTF-16; сохраните его в UTF-8",
        "de": "die Datei ist UTF-16-Text; speichern Sie sie als UTF-8",
    },
    # The `expected` and `found` values of a mismatch: what the name promises, what it is.
    "error_expected_txt": {"en": "plain text", "ru": "обычный текст", "de": "reiner Text"},
    "error_expected_md": {"en": "Markdown text", "ru": "текст Markdown", "de": "Markdown-Text"},
    "error_expected_pdf": {"en": "a PDF", "ru": "PDF", "de": "ein PDF"},
    "error_expected_html": {"en": "an HTML page", "ru": "HTML-страница", "de": "eine HTML-Seite"},
    "error_expected_htm": {"en": "an HTML page", "ru": "HTML-страница", "de": "eine HTML-Seite"},
    "error_expected_docx": {
        "en": "a Word .docx document",
        "ru": "документ Word .docx",
        "de": "ein Word-Dokument (.docx)",
    },
    "error_found_pdf": {
        "en": "it looks like a PDF",
        "ru": "похоже на PDF",
        "de": "sie sieht aus wie ein PDF",
    },
    "error_found_docx": {
        "en": "it looks like a Word .docx document",
        "ru": "похоже на документ Word .docx",
        "de": "sie sieht aus wie ein Word-Dokument (.docx)",
    },
    "error_found_xlsx": {
        "en": "it looks like an Excel workbook",
        "ru": "похоже на книгу Excel",
        "de": "sie sieht aus wie eine Excel-Arbeitsmappe",
    },
    "error_found_pptx": {
        "en": "it looks like a PowerPoint presentation",
        "ru": "похоже на презентацию PowerPoint",
        "de": "sie sieht aus wie eine PowerPoint-Präsentation",
    },
    "error_found_odf": {
        "en": "it looks like an OpenDocument file",
        "ru": "похоже на файл OpenDocument",
        "de": "sie sieht aus wie eine OpenDocument-Datei",
    },
    "error_found_zip": {
        "en": "it looks like a ZIP archive",
        "ru": "похоже на архив ZIP",
        "de": "sie sieht aus wie ein ZIP-Archiv",
    },
    "error_found_damaged_zip": {
        "en": "it looks like a damaged ZIP archive",
        "ru": "похоже на повреждённый архив ZIP",
        "de": "sie sieht aus wie ein beschädigtes ZIP-Archiv",
    },
    "error_found_ole": {
        "en": "it looks like an old-format Office file (.doc, .xls or .ppt)",
        "ru": "похоже на файл Office старого формата (.doc, .xls или .ppt)",
        "de": "sie sieht aus wie eine Office-Datei im alten Format (.doc, .xls oder .ppt)",
    },
    "error_found_exe": {
        "en": "it looks like a Windows program",
        "ru": "похоже на программу для Windows",
        "de": "sie sieht aus wie ein Windows-Programm",
    },
    "error_found_elf": {
        "en": "it looks like a Linux program",
        "ru": "похоже на программу для Linux",
        "de": "sie sieht aus wie ein Linux-Programm",
    },
    "error_found_png": {
        "en": "it looks like a PNG image",
        "ru": "похоже на изображение PNG",
        "de": "sie sieht aus wie ein PNG-Bild",
    },
    "error_found_jpeg": {
        "en": "it looks like a JPEG image",
        "ru": "похоже на изображение JPEG",
        "de": "sie sieht aus wie ein JPEG-Bild",
    },
    "error_found_gif": {
        "en": "it looks like a GIF image",
        "ru": "похоже на изображение GIF",
        "de": "sie sieht aus wie ein GIF-Bild",
    },
    "error_found_html": {
        "en": "it looks like an HTML page",
        "ru": "похоже на HTML-страницу",
        "de": "sie sieht aus wie eine HTML-Seite",
    },
    "error_found_utf16": {
        "en": "it looks like UTF-16 text",
        "ru": "похоже на текст в UTF-16",
        "de": "sie sieht aus wie UTF-16-Text",
    },
    "error_found_text": {
        "en": "it looks like plain text",
        "ru": "похоже на обычный текст",
        "de": "sie sieht aus wie reiner Text",
    },
    "error_found_binary": {
        "en": "it is binary data of an unknown kind",
        "ru": "это двоичные данные неизвестного типа",
        "de": "sie enthält Binärdaten unbekannter Art",
    },
    # IngestError, then each file that cannot be used on a line of its own.
    "error_index_not_written": {
        "en": "nothing was changed: the new index could not be written ({detail})",
        "ru": "ничего не изменено: новый индекс не удалось записать ({detail})",
        "de": "nichts wurde geändert: der neue Index konnte nicht geschrieben werden ({detail})",
    },
    "error_no_sources": {
        "en": "the sources dir {path} has no {kinds} or {last} files",
        "ru": "в папке источников {path} нет файлов {kinds} или {last}",
        "de": "im Quellordner {path} gibt es keine {kinds}- oder {last}-Dateien",
    },
    "error_no_sources_dir": {
        "en": "the sources dir {path} does not exist",
        "ru": "папки источников {path} не существует",
        "de": "der Quellordner {path} existiert nicht",
    },
    "error_sources_unusable": {
        "en": "nothing was changed: {failed} of {total} source files cannot be used",
        "ru": "ничего не изменено: {failed} из {total} исходных файлов нельзя использовать",
        "de": "nichts wurde geändert: {failed} von {total} Quelldateien sind nicht verwendbar",
    },
    "error_failed_file": {
        "en": "\n  {name}: {name} {reason}",
        "ru": "\n  {name}: {reason}",
        "de": "\n  {name}: {reason}",
    },
    # The index, a reload, the embedding model.
    "error_embedder_changed": {
        "en": "the index was built with {built_with}, not {embedder}; run `briefbot ingest` "
        "to re-index",
        "ru": "индекс построен с {built_with}, а не с {embedder}; выполните `briefbot ingest`, "
        "чтобы переиндексировать",
        "de": "der Index wurde mit {built_with} erstellt, nicht mit {embedder}; führen Sie "
        "`briefbot ingest` aus, um neu zu indexieren",
    },
    "error_embedding_failed": {
        "en": "the embedding service failed ({kind})",
        "ru": "сервис эмбеддингов дал сбой ({kind})",
        "de": "der Embedding-Dienst ist fehlgeschlagen ({kind})",
    },
    "error_index_server_unreachable": {
        "en": "the Chroma server at {server} cannot be used ({detail}); start it, or check "
        "BRIEFBOT_CHROMA_HOST, BRIEFBOT_CHROMA_PORT, BRIEFBOT_CHROMA_SSL and "
        "BRIEFBOT_CHROMA_TOKEN",
        "ru": "сервер Chroma {server} недоступен ({detail}); запустите его или проверьте "
        "BRIEFBOT_CHROMA_HOST, BRIEFBOT_CHROMA_PORT, BRIEFBOT_CHROMA_SSL и "
        "BRIEFBOT_CHROMA_TOKEN",
        "de": "der Chroma-Server unter {server} ist nicht nutzbar ({detail}); starten Sie ihn "
        "oder prüfen Sie BRIEFBOT_CHROMA_HOST, BRIEFBOT_CHROMA_PORT, BRIEFBOT_CHROMA_SSL und "
        "BRIEFBOT_CHROMA_TOKEN",
    },
    "error_index_version_damaged": {
        "en": "index version {version} is damaged ({detail}); run `briefbot ingest`",
        "ru": "версия индекса {version} повреждена ({detail}); выполните `briefbot ingest`",
        "de": "Indexversion {version} ist beschädigt ({detail}); führen Sie `briefbot ingest` aus",
    },
    "error_index_version_set_aside": {
        "en": "index version {version} was damaged and is set aside; reloading rebuilds it",
        "ru": "версия индекса {version} была повреждена и отложена; перезагрузка построит её "
        "заново",
        "de": "Indexversion {version} war beschädigt und wurde beiseitegelegt; Neuladen baut "
        "sie neu auf",
    },
    "error_index_version_unreadable": {
        "en": "index version {version} is unreadable ({detail})",
        "ru": "версию индекса {version} не удаётся прочитать ({detail})",
        "de": "Indexversion {version} ist nicht lesbar ({detail})",
    },
    "error_no_manifest": {
        "en": "index version {version} has no manifest",
        "ru": "у версии индекса {version} нет манифеста",
        "de": "Indexversion {version} hat kein Manifest",
    },
    "error_no_previous_version": {
        "en": "there is no previous index version to roll back to",
        "ru": "нет предыдущей версии индекса, к которой можно откатиться",
        "de": "es gibt keine frühere Indexversion, zu der zurückgesetzt werden kann",
    },
    "error_nothing_indexed": {
        "en": "nothing is indexed yet; run `briefbot ingest`",
        "ru": "пока ничего не проиндексировано; выполните `briefbot ingest`",
        "de": "noch ist nichts indexiert; führen Sie `briefbot ingest` aus",
    },
    "error_pointer_unreadable": {
        "en": "the index pointer is unreadable ({detail})",
        "ru": "указатель индекса не удаётся прочитать ({detail})",
        "de": "der Indexzeiger ist nicht lesbar ({detail})",
    },
    "error_previous_version_incomplete": {
        "en": "the previous index version {version} is incomplete",
        "ru": "предыдущая версия индекса {version} неполная",
        "de": "die frühere Indexversion {version} ist unvollständig",
    },
    "error_reload_running": {
        "en": "a reload is already running; try again shortly",
        "ru": "перезагрузка уже идёт; попробуйте чуть позже",
        "de": "ein Neuladen läuft bereits; versuchen Sie es gleich noch einmal",
    },
}


def pick_language(chat_language: str | None, user_language_code: str | None) -> str:
    """The chat's /language choice, else the user's Telegram language ("de-AT" is "de"), else
    English; a language the catalog lacks is English too."""
    for code in (chat_language, user_language_code):
        if code:
            prefix = code.split("-", 1)[0].lower()
            if prefix in LANGUAGE_NAMES:
                return prefix
    return DEFAULT_LANGUAGE


class Messages:
    """The catalog in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGE_NAMES else DEFAULT_LANGUAGE

    def get(self, key: str, **values: object) -> str:
        text = CATALOG[key][self.language]
        return text.format(**values) if values else text


ENGLISH: Final = Messages(DEFAULT_LANGUAGE)

# Values of these names are codes of a kind of file ("pdf"), worded as error_<name>_<code>.
_KIND_VALUES: Final = ("expected", "found")


def error_text(error: BriefbotError, texts: Messages, html: bool = False) -> str:
    """The error in the language of `texts`, from its reason code and values; its English
    message when the catalog has no text for its reason (none given, or a code newer than the
    catalog), so nothing is lost. With html, file names and paths in it are escaped for
    parse_mode HTML."""

    def worded(name: str, value: object) -> object:
        if name in _KIND_VALUES:
            return texts.get(f"error_{name}_{value}")
        return escape(value, quote=False) if html and isinstance(value, str) else value

    key = f"error_{error.reason}"
    if error.reason is None or key not in CATALOG:
        return escape(str(error), quote=False) if html else str(error)
    text = texts.get(key, **{name: worded(name, value) for name, value in error.values.items()})
    if isinstance(error, IngestError):
        for name, failure in error.failures.items():
            text += texts.get(
                "error_failed_file",
                name=worded("name", name),
                reason=error_text(failure, texts, html),
            )
    return text


def user_messages(update: object) -> Messages:
    """By the user's Telegram language alone, without asking the state database: for replies
    that must not wait on it (strangers turned away, a full queue)."""
    user = update.effective_user if isinstance(update, Update) else None
    return Messages(pick_language(None, user.language_code if user else None))


async def chat_messages(update: object, context: BriefContext) -> Messages:
    """The language of a reply to this update: the chat's /language choice (one read of the
    state database, off the event loop), else the user's."""
    if not isinstance(update, Update) or update.effective_chat is None:
        return user_messages(update)
    user = update.effective_user
    chosen = await _chosen(context.services, update.effective_chat.id)
    return Messages(pick_language(chosen, user.language_code if user else None))


async def scheduled_messages(services: Services, chat_id: int) -> Messages:
    """For a post nobody asked for just now (a scheduled briefing): the chat's choice, else
    English."""
    return Messages(pick_language(await _chosen(services, chat_id), None))


async def _chosen(services: Services, chat_id: int) -> str | None:
    try:
        return await asyncio.to_thread(services.state.subscriptions.language, chat_id)
    except DatabaseUnavailableError as error:  # the reply matters more than its language
        log.warning("chat language not read (%s); using the user's", error)
        return None

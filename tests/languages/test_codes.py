"""The language mapping: FLORES-200 completeness, code forms in, model codes out."""

from __future__ import annotations

import json

import msgspec
import pytest

from gateway.catalog.languages import (
    REGISTRY,
    Language,
    direction_of_script,
    languages_for,
    resolve_language,
    to_model_code,
)
from protocol.api.catalog import LanguageInfo
from protocol.errors import ErrorCode, ServiceError


def _words(text: str) -> list[str]:
    return text.split()


# The 202 language codes of the NLLB-200 tokenizer, as the model defines them.
NLLB_CODES = _words("""
ace_Arab ace_Latn acm_Arab acq_Arab aeb_Arab afr_Latn ajp_Arab aka_Latn amh_Ethi apc_Arab arb_Arab
ars_Arab ary_Arab arz_Arab asm_Beng ast_Latn awa_Deva ayr_Latn azb_Arab azj_Latn bak_Cyrl bam_Latn
ban_Latn bel_Cyrl bem_Latn ben_Beng bho_Deva bjn_Arab bjn_Latn bod_Tibt bos_Latn bug_Latn bul_Cyrl
cat_Latn ceb_Latn ces_Latn cjk_Latn ckb_Arab crh_Latn cym_Latn dan_Latn deu_Latn dik_Latn dyu_Latn
dzo_Tibt ell_Grek eng_Latn epo_Latn est_Latn eus_Latn ewe_Latn fao_Latn pes_Arab fij_Latn fin_Latn
fon_Latn fra_Latn fur_Latn fuv_Latn gla_Latn gle_Latn glg_Latn grn_Latn guj_Gujr hat_Latn hau_Latn
heb_Hebr hin_Deva hne_Deva hrv_Latn hun_Latn hye_Armn ibo_Latn ilo_Latn ind_Latn isl_Latn ita_Latn
jav_Latn jpn_Jpan kab_Latn kac_Latn kam_Latn kan_Knda kas_Arab kas_Deva kat_Geor knc_Arab knc_Latn
kaz_Cyrl kbp_Latn kea_Latn khm_Khmr kik_Latn kin_Latn kir_Cyrl kmb_Latn kon_Latn kor_Hang kmr_Latn
lao_Laoo lvs_Latn lij_Latn lim_Latn lin_Latn lit_Latn lmo_Latn ltg_Latn ltz_Latn lua_Latn lug_Latn
luo_Latn lus_Latn mag_Deva mai_Deva mal_Mlym mar_Deva min_Latn mkd_Cyrl plt_Latn mlt_Latn mni_Beng
khk_Cyrl mos_Latn mri_Latn zsm_Latn mya_Mymr nld_Latn nno_Latn nob_Latn npi_Deva nso_Latn nus_Latn
nya_Latn oci_Latn gaz_Latn ory_Orya pag_Latn pan_Guru pap_Latn pol_Latn por_Latn prs_Arab pbt_Arab
quy_Latn ron_Latn run_Latn rus_Cyrl sag_Latn san_Deva sat_Beng scn_Latn shn_Mymr sin_Sinh slk_Latn
slv_Latn smo_Latn sna_Latn snd_Arab som_Latn sot_Latn spa_Latn als_Latn srd_Latn srp_Cyrl ssw_Latn
sun_Latn swe_Latn swh_Latn szl_Latn tam_Taml tat_Cyrl tel_Telu tgk_Cyrl tgl_Latn tha_Thai tir_Ethi
taq_Latn taq_Tfng tpi_Latn tsn_Latn tso_Latn tuk_Latn tum_Latn tur_Latn twi_Latn tzm_Tfng uig_Arab
ukr_Cyrl umb_Latn urd_Arab uzn_Latn vec_Latn vie_Latn war_Latn wol_Latn xho_Latn ydd_Hebr yor_Latn
yue_Hant zho_Hans zho_Hant zul_Latn
""")

# The 100 language codes of the M2M-100 tokenizer.
M2M_CODES = _words("""
af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he
hi hr ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl
no ns oc or pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi
yo zh zu
""")


def test_the_reference_lists_have_the_published_sizes() -> None:
    assert (len(set(NLLB_CODES)), len(set(M2M_CODES))) == (202, 100)


def test_every_nllb_code_is_present_with_script_and_direction() -> None:
    nllb = {lang.flores: lang for lang in languages_for("nllb")}
    assert set(nllb) == set(NLLB_CODES)
    for code in NLLB_CODES:
        lang = nllb[code]
        iso639_3, script_code = code.split("_")
        assert (lang.iso639_3, lang.script_code) == (iso639_3, script_code)
        assert lang.script and lang.name and lang.native_name
        assert lang.direction == direction_of_script(script_code), code
        assert lang.resource_level in ("high", "low")
        assert lang.bitext_count is not None and lang.bitext_count > 0


def test_resource_level_follows_the_nllb_one_million_rule() -> None:
    for lang in languages_for("nllb"):
        assert lang.bitext_count is not None
        assert (lang.resource_level == "high") == (lang.bitext_count >= 1_000_000), lang.key
    assert resolve_language("en").resource_level == "high"
    assert resolve_language("ace_Latn").resource_level == "low"


@pytest.mark.parametrize("script", ["Arab", "Hebr", "Thaa", "Nkoo", "Syrc", "Adlm"])
def test_right_to_left_scripts(script: str) -> None:
    assert direction_of_script(script) == "rtl"


@pytest.mark.parametrize("script", ["Latn", "Cyrl", "Deva", "Hans", "Ethi", "Tfng"])
def test_left_to_right_scripts(script: str) -> None:
    assert direction_of_script(script) == "ltr"


@pytest.mark.parametrize("code", ["ar", "he", "fa", "ur", "yi", "ps", "ckb", "arz_Arab", "ks"])
def test_languages_written_right_to_left(code: str) -> None:
    assert resolve_language(code).direction == "rtl"


@pytest.mark.parametrize("code", M2M_CODES)
def test_m2m_codes_round_trip_through_iso_and_flores(code: str) -> None:
    lang = resolve_language(code)
    assert to_model_code(lang, "m2m") == code
    assert resolve_language(lang.tag) == lang
    assert resolve_language(lang.iso639_3) == REGISTRY.default_of(lang.iso639_3)
    if lang.iso639_1 is not None:
        assert resolve_language(lang.iso639_1) == lang
    if lang.flores is None:
        assert code in ("br", "fy")  # Breton and Western Frisian are not in FLORES-200
        with pytest.raises(ServiceError) as info:
            to_model_code(lang, "nllb")
        assert info.value.code == ErrorCode.CONFIGURATION_ERROR
    else:
        assert resolve_language(lang.flores) == lang
        assert to_model_code(resolve_language(lang.flores), "m2m") == code
        assert to_model_code(lang, "nllb") == lang.flores


def test_every_language_resolves_from_its_own_tag_and_key() -> None:
    tags = [lang.tag for lang in REGISTRY.languages]
    assert len(tags) == len(set(tags))
    for lang in REGISTRY.languages:
        assert resolve_language(lang.tag) == lang
        assert resolve_language(lang.key) == lang


@pytest.mark.parametrize(
    ("code", "flores"),
    [
        ("zh", "zho_Hans"),
        ("zh-CN", "zho_Hans"),
        ("zh-Hans", "zho_Hans"),
        ("zh_hans", "zho_Hans"),
        ("zh-SG", "zho_Hans"),
        ("ZH-cn", "zho_Hans"),
        ("zh-TW", "zho_Hant"),
        ("zh-HK", "zho_Hant"),
        ("zh-Hant", "zho_Hant"),
        ("zh-Hant-TW", "zho_Hant"),
        ("zh_TW", "zho_Hant"),
        ("cmn-Hant", "zho_Hant"),
        ("pt-BR", "por_Latn"),
        ("pt_PT", "por_Latn"),
        ("sr-Latn", "srp_Cyrl"),  # NLLB-200 has only Cyrillic Serbian
        ("sr-Cyrl-RS", "srp_Cyrl"),
        ("ms", "zsm_Latn"),
        ("fa", "pes_Arab"),
        ("fa-AF", "prs_Arab"),
        ("ar", "arb_Arab"),
        ("ar-EG", "arb_Arab"),
        ("ara", "arb_Arab"),
        ("no", "nob_Latn"),
        ("nb", "nob_Latn"),
        ("nn", "nno_Latn"),
        ("en-US", "eng_Latn"),
        ("en-x-private", "eng_Latn"),
        ("fra_Latn", "fra_Latn"),
        ("FRA_LATN", "fra_Latn"),
        ("fr", "fra_Latn"),
        ("fra", "fra_Latn"),
        (" de ", "deu_Latn"),
        ("jw", "jav_Latn"),  # Whisper's code for Javanese
        ("ku-Arab", "ckb_Arab"),
        ("ks-Deva", "kas_Deva"),
    ],
)
def test_code_forms_map_to_the_right_variety(code: str, flores: str) -> None:
    assert resolve_language(code).flores == flores


@pytest.mark.parametrize("code", ["xx", "klingon", "zz_Latn", "", "en_", "123"])
def test_unknown_codes_raise_with_suggestions(code: str) -> None:
    with pytest.raises(ServiceError) as info:
        resolve_language(code)
    error = info.value
    assert error.code == ErrorCode.CONFIGURATION_ERROR
    assert error.details["language"] == code
    suggestions = error.details["suggestions"]
    assert isinstance(suggestions, list)
    for suggestion in suggestions:
        resolve_language(suggestion)  # every suggestion is itself a valid code


def test_suggestions_point_at_the_intended_language() -> None:
    with pytest.raises(ServiceError) as info:
        resolve_language("frnch")
    assert info.value.details["suggestions"][0] == "fr"
    with pytest.raises(ServiceError) as info:
        resolve_language("Chinese")
    assert {"zh-Hans", "zh-Hant"} <= set(info.value.details["suggestions"])


def test_model_codes_per_family() -> None:
    french = resolve_language("fr-CA")
    assert [to_model_code(french, a) for a in ("nllb", "m2m", "whisper")] == [
        "fra_Latn",
        "fr",
        "fr",
    ]
    traditional = resolve_language("zh-TW")
    assert to_model_code(traditional, "whisper") == "zh"
    with pytest.raises(ServiceError) as info:
        to_model_code(traditional, "m2m")  # M2M-100 cannot promise Traditional characters
    assert info.value.details["architecture"] == "m2m"
    assert to_model_code(resolve_language("la"), "whisper") == "la"


def test_languages_per_family() -> None:
    assert len(languages_for("nllb")) == 202
    assert len(languages_for("m2m")) == 100
    whisper = languages_for("whisper")
    assert len({lang.whisper for lang in whisper}) == 100
    faster_whisper = pytest.importorskip("faster_whisper.tokenizer")
    assert {lang.whisper for lang in whisper} == set(faster_whisper._LANGUAGE_CODES)


@pytest.mark.parametrize(
    ("code", "tier"),
    [("en", "high"), ("zh-TW", "high"), ("nb", "medium"), ("sw", "high"), ("yue", "low")],
)
def test_quality_tier_follows_training_data(code: str, tier: str) -> None:
    lang = resolve_language(code)
    assert lang.quality_tier == tier
    count = lang.bitext_count or 0
    expected = "high" if count >= 1_000_000 else "medium" if count >= 100_000 else "low"
    assert lang.quality_tier == expected


def test_language_info_matches_the_contract() -> None:
    chinese = resolve_language("zh-TW").info()
    body = json.loads(msgspec.json.encode(chinese))
    assert body["code"] == "zh-Hant" and body["script"] == "Han (Traditional)"
    assert {v["code"] for v in body["variants"]} == {"zh-TW", "zh-HK", "zh-MO"}
    assert msgspec.json.decode(msgspec.json.encode(chinese), type=LanguageInfo) == chinese
    acehnese = json.loads(msgspec.json.encode(resolve_language("ace_Arab").info()))
    assert "variants" not in acehnese
    assert acehnese["direction"] == "rtl" and acehnese["quality_tier"] == "low"


def test_languages_are_hashable_values() -> None:
    assert len({resolve_language("zh"), resolve_language("zh-CN"), resolve_language("zho")}) == 1
    assert isinstance(resolve_language("de"), Language)

"""What tests, benchmarks (bench/) and scripts (scripts/) share: nothing here is a test
itself, except the `test_*.py` modules that check these helpers.

- `gateway_process`: a real `python -m gateway` on a free loopback port (start, wait until
  ready, events, stop), `free_port`, `next_event`.
- `worker_peer`: a real `python -m worker` driven over a ROUTER socket, as the gateway would.
- `hub_cache`: place a built model where the Hugging Face cache would hold a repository.
- `builders/`: small real models the suite builds (CTranslate2 copy translators, tiny
  Whisper models) and their pytest-facing `fixtures`.
- `audio`, `audio_formats`: the committed speech fixtures (tests/fixtures/audio) and their
  references; the same speech encoded in other container formats.
- `wer`: word error rate for transcripts; `envelope`: the contract's error envelope;
  `fake_hub`: a fake Hugging Face hub on loopback for the download tests.
- `cli`: `loquilex-models` run as a subprocess, its exit code and output.

The supervision tests' own harness (short timeouts, kept logs) stays in tests/supervision.
"""

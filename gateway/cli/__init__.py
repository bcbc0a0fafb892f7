"""`loquilex-models`, the operator's command line (typer, rich).

Remote commands (`models ...`, `workers ...`) talk to a running gateway over HTTP and its
WebSocket only (httpx, websockets), so importing them never imports the app and `--help`
answers at once; `serve`, `worker` and `keys generate` run this machine's own code.

    main.py        the typer app, its sub-commands' wiring, exit codes
    client.py      the gateway over HTTP and WebSocket: errors as ServiceFailure / Unreachable
    follow.py      subscribe, ask, then follow a load's or a download's events to their end
    progress.py    events -> a progress view -> a live bar (terminal) or plain lines (pipes)
    tables.py      status, workers and catalog bodies -> table rows; human figures
    output.py      human or --json output, error reports
    wav_audio.py       a WAV file as 16-bit mono frames for the caption socket
    caption_stream.py  stream a file at the pace of speech; collect captions as they arrive
    caption_view.py    server messages -> caption lines (partials in place on a terminal)
    models.py  workers.py  local.py  captions.py   the commands

May import anything of the gateway, lazily, for the local commands only (never the app for
the remote ones); sits at the top of the gateway's layers beside gateway.__main__.
"""

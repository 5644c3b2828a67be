from services.scoring.replay.cli import cli

cli()

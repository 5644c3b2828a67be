from services.scoring.simulation.cli import app

app()

from services.scoring.modules.check import app

app()

import click

agencies_cli = click.Group("agencies", help="Agencies (lembaga).")

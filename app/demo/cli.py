import click

demo_cli = click.Group("demo", help="Demo data.")

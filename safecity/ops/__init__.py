"""Operations: alerts, incidents, standard operating procedures and dispatch to police units."""

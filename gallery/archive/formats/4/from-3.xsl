<?xml version="1.0" encoding="UTF-8"?>
<!-- Upgrade a version 3 backup document to version 4: an album's cover that version 4's rule
     refuses (no media object of the backup, or one outside the album and the albums below it;
     version 3 declared the rule but never applied it) is dropped, so the album shows its first
     item as one without a cover does. Everything else is copied unchanged; the format
     attribute becomes 4. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:b="urn:atrium:backup">
  <xsl:key name="album" match="b:album" use="@id"/>
  <xsl:key name="media" match="b:media" use="@id"/>
  <xsl:template match="@*|node()">
    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
  <xsl:template match="/b:backup/@format">
    <xsl:attribute name="format">4</xsl:attribute>
  </xsl:template>
  <xsl:template match="b:album/@cover">
    <xsl:variable name="self" select="../@id"/>
    <xsl:variable name="coverAlbum" select="key('media', current())/@album"/>
    <xsl:if test="count(key('media', current())) = 1 and ($coverAlbum = $self or contains(concat(' ', normalize-space(key('album', $coverAlbum)/@ancestors), ' '), concat(' ', $self, ' ')))">
      <xsl:copy/>
    </xsl:if>
  </xsl:template>
</xsl:stylesheet>

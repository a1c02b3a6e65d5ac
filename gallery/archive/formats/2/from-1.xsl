<?xml version="1.0" encoding="UTF-8"?>
<!-- Upgrade a version 1 backup document to version 2: a media object's file-name, mime and
     original elements become one original element with name, mime, path, size, sha256.
     Everything else is copied unchanged; the format attribute becomes 2. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:b="urn:atrium:backup">
  <xsl:template match="@*|node()">
    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
  <xsl:template match="/b:backup/@format">
    <xsl:attribute name="format">2</xsl:attribute>
  </xsl:template>
  <xsl:template match="b:media/b:file-name">
    <xsl:element name="original" namespace="urn:atrium:backup">
      <xsl:attribute name="name"><xsl:value-of select="."/></xsl:attribute>
      <xsl:if test="../b:mime"><xsl:attribute name="mime"><xsl:value-of select="../b:mime"/></xsl:attribute></xsl:if>
      <xsl:for-each select="../b:original/@*"><xsl:copy/></xsl:for-each>
    </xsl:element>
  </xsl:template>
  <xsl:template match="b:media/b:mime|b:media/b:original"/>
</xsl:stylesheet>
